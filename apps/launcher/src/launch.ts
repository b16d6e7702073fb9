import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, realpathSync, statSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { fileURLToPath } from "node:url";
import type { LauncherConfig } from "./env.ts";
import type { LaunchHost, LaunchPlan, LaunchRefusal, LogFiles } from "./launch-plan.ts";
import { processStartTime } from "./processes.ts";
import { findOnPath } from "./runtimes.ts";

const WRAPPER = fileURLToPath(new URL("./agent-wrapper.mjs", import.meta.url));

/** Everything needed to follow a run, across launcher restarts (kept in the state file). */
export interface LaunchRecord {
  taskId: number;
  attempt: number;
  slug: string;
  /** Wrapper pid = process-group id. */
  pid: number;
  procStart?: string | undefined;
  startedAt: number;
  command: string[];
  logPath: string;
  errLogPath: string;
  exitPath: string;
  promptPath: string;
  /** Set when the launcher stopped the run (operator cancel): how. */
  stoppedWith?: string | undefined;
  /** Why the launcher stopped it, for the failure report. */
  stopReason?: string | undefined;
  /** Set once the started report went through. */
  startedReported?: boolean | undefined;
  /** The run the claim opened (task_runs). */
  runId?: number | undefined;
  /** Stop the agent this many minutes after startedAt (the claim's run_timeout_minutes). */
  timeoutMinutes?: number | undefined;
  /** Why the launcher stopped it, as a code: the outcome report's. */
  stopKind?: "timed_out" | "cancelled" | "not_held" | undefined;
  /** The agent's task token: its output is redacted of it, also after a launcher restart. */
  taskToken?: string | undefined;
}

export class LogSetupError extends Error {}

/**
 * Creates the log folder and files and writes the prompt. An unwritable folder
 * or a full disk fails here, before the agent starts, so the task gets a clear
 * failure report instead of an agent whose output goes nowhere.
 */
export function prepareLogs(logDir: string, files: LogFiles, prompt: string): { outFd: number; errFd: number } {
  try {
    mkdirSync(logDir, { recursive: true, mode: 0o700 });
    writeFileSync(files.promptPath, prompt, { mode: 0o600 });
    const outFd = openSync(files.logPath, "a", 0o600);
    const errFd = openSync(files.errLogPath, "a", 0o600);
    return { outFd, errFd };
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new LogSetupError(`cannot write launch logs in ${logDir}: ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " ").trim());
  }
}

export interface SpawnRequest {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
  files: LogFiles;
  /** A file the agent reads as its stdin (the prompt, kept out of argv); /dev/null otherwise. */
  stdinPath?: string | undefined;
  /** Run the agent as this user (the wrapper stays the launcher's, to write the exit record where the agent cannot). */
  runAs?: { uid: number; gid: number } | undefined;
}

/** Why a folder cannot be an agent's working directory, or undefined when it can. */
export function workdirProblem(dir: string): string | undefined {
  try {
    return statSync(dir).isDirectory() ? undefined : "not a directory";
  } catch (error) {
    return (error as NodeJS.ErrnoException).code ?? (error as Error).message;
  }
}

function realpathOf(path: string): string | undefined {
  try {
    return realpathSync(path);
  } catch {
    return undefined;
  }
}

/** This machine, as a launch plan sees it. */
export function thisHost(config: LauncherConfig): LaunchHost {
  return { findOnPath: (program) => findOnPath(program, config.path), workdirProblem, realpath: realpathOf, now: new Date() };
}

export class AgentSetupError extends Error {}

/**
 * Run as the agent user: creates the task's folder and writes the prompt
 * (stdin) to the agent's copy. Plain CommonJS for `node -e`; argv: workdir
 * ("" = none), prompt path ("" = none).
 */
const AS_AGENT_SETUP = `
const fs = require("node:fs");
const path = require("node:path");
const [workdir, promptPath] = process.argv.slice(1);
if (workdir) fs.mkdirSync(workdir, { recursive: true, mode: 0o700 });
if (promptPath) {
  fs.mkdirSync(path.dirname(promptPath), { recursive: true, mode: 0o700 });
  fs.writeFileSync(promptPath, fs.readFileSync(0), { mode: 0o600 });
}
`;

/**
 * What the agent needs before it starts: the task's own working folder
 * (`<root>/task-<id>`) and, for an agent user, its copy of the prompt. For an
 * agent user both are made BY that user (a short node process switched to
 * it), never by root: its HOME and the folders it owns are its to rearrange,
 * and a root that followed a symlink it planted there would create, write or
 * chown whatever the link points at.
 */
export function prepareAgentFiles(plan: Pick<LaunchPlan, "workdir" | "createWorkdir" | "runAs" | "agentPromptPath" | "prompt" | "files">): void {
  const copyPrompt = plan.agentPromptPath !== plan.files.promptPath;
  if (plan.runAs) {
    if (!plan.createWorkdir && !copyPrompt) return;
    const made = spawnSync(process.execPath, ["-e", AS_AGENT_SETUP, plan.createWorkdir ? plan.workdir : "", copyPrompt ? plan.agentPromptPath : ""], {
      uid: plan.runAs.uid,
      gid: plan.runAs.gid,
      cwd: "/",
      env: {},
      input: plan.prompt,
      encoding: "utf8",
      timeout: 30_000,
    });
    if (made.error || made.status !== 0) {
      const why = made.error?.message ?? (made.stderr.split("\n").find((l) => /^\w*Error/.test(l)) ?? made.stderr.trim().split("\n").at(-1) ?? `exit ${made.status}`);
      throw new AgentSetupError(`cannot prepare the agent's files as uid ${plan.runAs.uid} (${plan.createWorkdir ? plan.workdir : plan.agentPromptPath}): ${why}`.slice(0, 1000));
    }
    return;
  }
  try {
    if (plan.createWorkdir) mkdirSync(plan.workdir, { recursive: true, mode: 0o700 });
    if (copyPrompt) {
      mkdirSync(dirname(plan.agentPromptPath), { recursive: true, mode: 0o700 });
      writeFileSync(plan.agentPromptPath, plan.prompt, { mode: 0o600 });
    }
  } catch (error) {
    const e = error as NodeJS.ErrnoException;
    throw new AgentSetupError(`cannot prepare the agent's files (${e.path ?? plan.workdir}): ${e.code ?? ""} ${e.message}`.replace(/\s+/g, " ").trim());
  }
}

/**
 * With an agent user, the launcher's state and log folders are made 0700
 * (and the worker log 0640) at start, whatever an earlier setup left: what
 * keeps the agents out is these modes.
 */
export function securePrivatePaths(config: Pick<LauncherConfig, "agentUser" | "stateDir" | "logDir" | "workerLog">): void {
  if (!config.agentUser) return;
  for (const dir of [config.stateDir, config.logDir]) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    chmodSync(dir, 0o700);
  }
  if (config.workerLog !== "-" && existsSync(config.workerLog)) chmodSync(config.workerLog, 0o640);
}

/**
 * Carries a plan out: the log files and prompt first (an unwritable folder or
 * a full disk is a refusal, before any agent runs), then the detached agent.
 */
export async function startRun(plan: LaunchPlan, config: LauncherConfig): Promise<{ ok: true; record: LaunchRecord } | ({ ok: false } & LaunchRefusal)> {
  try {
    prepareAgentFiles(plan);
  } catch (error) {
    if (error instanceof AgentSetupError) return { ok: false, reason: error.message, evidence: `worker: ${config.workerId}\nOPS_WORKDIR_ROOTS=${config.workdirRoots.join(",")}` };
    throw error;
  }
  let fds: { outFd: number; errFd: number };
  try {
    fds = prepareLogs(config.logDir, plan.files, plan.prompt);
  } catch (error) {
    if (error instanceof LogSetupError) return { ok: false, reason: error.message, evidence: `worker: ${config.workerId}\nOPS_LAUNCHER_LOG_DIR=${config.logDir}` };
    throw error;
  }
  let spawned: { pid: number; procStart?: string | undefined };
  try {
    spawned = await spawnDetached({ argv: plan.argv, cwd: plan.workdir, env: plan.env, files: plan.files, stdinPath: plan.stdinPath, runAs: plan.runAs }, fds);
  } catch (error) {
    return { ok: false, reason: `failed to start agent ${plan.command.program}: ${(error as Error).message}` };
  }
  return {
    ok: true,
    record: {
      taskId: plan.taskId,
      attempt: plan.attempt,
      slug: plan.slug,
      pid: spawned.pid,
      procStart: spawned.procStart,
      startedAt: Date.now(),
      command: plan.reportedCommand,
      ...plan.files,
    },
  };
}

/**
 * Starts the agent detached: its own process group (the wrapper leads it; with
 * runAs the wrapper starts the agent as that user, primary group only),
 * stdin from /dev/null (so a CLI that reads stdin does not hang) or from the
 * prompt file, stdout and stderr straight into the log files. The launcher can
 * die and restart meanwhile.
 */
export function spawnDetached(req: SpawnRequest, fds: { outFd: number; errFd: number }): Promise<{ pid: number; procStart?: string | undefined }> {
  return new Promise((resolveSpawn, reject) => {
    let child: ChildProcess;
    let inFd: number | undefined;
    const closeFds = () => {
      closeSync(fds.outFd);
      closeSync(fds.errFd);
      if (inFd !== undefined) closeSync(inFd);
    };
    try {
      if (req.stdinPath !== undefined) inFd = openSync(req.stdinPath, "r");
      const as = req.runAs ? [`--as=${req.runAs.uid}:${req.runAs.gid}`] : [];
      child = spawn(process.execPath, [WRAPPER, ...as, req.files.exitPath, ...req.argv], {
        cwd: req.cwd,
        env: req.env,
        detached: true,
        stdio: [inFd ?? "ignore", fds.outFd, fds.errFd],
      });
    } catch (error) {
      closeFds();
      reject(error);
      return;
    }
    closeFds();
    child.once("error", reject);
    child.once("spawn", () => {
      child.unref();
      resolveSpawn({ pid: child.pid!, procStart: processStartTime(child.pid!) });
    });
  });
}

export interface ExitRecord {
  code: number | null;
  signal: string | null;
  started_at: number;
  ended_at: number;
  error?: string;
}

/** The wrapper's record of how the agent ended, once written. */
export function readExitRecord(exitPath: string): ExitRecord | undefined {
  try {
    return JSON.parse(readFileSync(exitPath, "utf8")) as ExitRecord;
  } catch {
    return undefined;
  }
}

/** The last part of a log, for evidence in a failure report. */
export function tailOf(path: string, maxBytes = 4000): string {
  try {
    if (!existsSync(path)) return "";
    const size = statSync(path).size;
    const fd = openSync(path, "r");
    try {
      const length = Math.min(size, maxBytes);
      const buffer = Buffer.alloc(length);
      readSync(fd, buffer, 0, length, size - length);
      return buffer.toString("utf8");
    } finally {
      closeSync(fd);
    }
  } catch {
    return "";
  }
}

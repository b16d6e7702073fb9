import { type ChildProcess, spawn } from "node:child_process";
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { processStartTime } from "./processes.ts";

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
}

export interface LogFiles {
  logPath: string;
  errLogPath: string;
  exitPath: string;
  promptPath: string;
}

export class LogSetupError extends Error {}

/** `<task>-<timestamp>` names, sortable and unique per launch. */
export function logFilesFor(logDir: string, taskId: number, now = new Date()): LogFiles {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.(\d+)Z$/, "$1Z");
  const base = join(logDir, `${taskId}-${stamp}`);
  return { logPath: `${base}.log`, errLogPath: `${base}.err.log`, exitPath: `${base}.exit`, promptPath: `${base}.prompt.md` };
}

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
}

/**
 * Starts the agent detached: its own process group (the wrapper leads it),
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
      child = spawn(process.execPath, [WRAPPER, req.files.exitPath, ...req.argv], {
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

import { type ChildProcess, spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { expect } from "vitest";
import { testLogFile } from "../../../tests/support/log-dir.ts";
import { REPO_ROOT, restClient, type SpawnedApi } from "../../../tests/support/spawn-api.ts";

export const FAKE_AGENT = join(REPO_ROOT, "apps/launcher/test/fixtures/fake-agent.mjs");
export const LAUNCHER_MAIN = join(REPO_ROOT, "apps/launcher/src/main.ts");
export const DOCTOR_MAIN = join(REPO_ROOT, "apps/launcher/src/doctor.ts");

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface LauncherDirs {
  root: string;
  logDir: string;
  stateDir: string;
  /** In the test-log folder, so the secrets scan reads every launcher's log. */
  workerLog: string;
  /** Where the fake agent records what it received. */
  out: string;
}

export function launcherDirs(): LauncherDirs {
  const root = mkdtempSync(join(tmpdir(), "ops-launcher-test-"));
  const out = join(root, "agent-out");
  mkdirSync(out);
  return { root, logDir: join(root, "logs"), stateDir: join(root, "state"), workerLog: testLogFile("launcher-worker"), out };
}

export interface RunningLauncher {
  process: ChildProcess;
  dirs: LauncherDirs;
  output(): string;
  waitForOutput(pattern: RegExp, timeoutMs?: number): Promise<void>;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * The environment every test launcher shares: fast heartbeats, short windows,
 * private folders. A variable given as undefined is left out (a launcher
 * without OPS_SERVICE_TOKEN, say).
 */
export function launcherEnv(api: SpawnedApi, dirs: LauncherDirs, env: Record<string, string | undefined>): Record<string, string> {
  const inherited = Object.fromEntries(
    Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(OPS_|AGENT_CMD_|AGENT_CREDENTIALS_|SUPPORTED_|CREDENTIALS_DIRECTORY$)/.test(k)),
  ) as Record<string, string>;
  const merged: Record<string, string | undefined> = {
    ...inherited,
    OPS_API_BASE: api.apiBase,
    OPS_SERVICE_TOKEN: api.serviceToken,
    OPS_LAUNCHER_LOG: dirs.workerLog,
    OPS_LAUNCHER_LOG_DIR: dirs.logDir,
    OPS_LAUNCHER_STATE_DIR: dirs.stateDir,
    OPS_WORKDIR_ROOTS: dirs.root,
    OPS_HEARTBEAT_INTERVAL_MS: "500",
    OPS_EARLY_EXIT_MS: "3000",
    OPS_STOP_GRACE_MS: "2000",
    OPS_POLL_WAIT_MS: "20000",
    FAKE_AGENT_OUT: dirs.out,
    // Agents get an allowlisted environment: the fake agent's record folder is on the list.
    OPS_AGENT_ENV_ALLOW: "FAKE_AGENT_OUT",
    ...env,
  };
  return Object.fromEntries(Object.entries(merged).filter((e): e is [string, string] => e[1] !== undefined));
}

/** Starts `tsx apps/launcher/src/main.ts` and waits until it has announced itself. */
export async function startLauncher(api: SpawnedApi, dirs: LauncherDirs, env: Record<string, string | undefined>): Promise<RunningLauncher> {
  let out = "";
  // `node --import tsx`, not the tsx CLI: the CLI runs the script in a child
  // process, and a SIGKILL to the CLI would leave the real launcher running.
  const child = spawn(process.execPath, ["--import", "tsx", LAUNCHER_MAIN], { cwd: REPO_ROOT, env: launcherEnv(api, dirs, env), stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const launcher: RunningLauncher = {
    process: child,
    dirs,
    output: () => out,
    async waitForOutput(pattern, timeoutMs = 20_000) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(out)) {
        if (child.exitCode !== null) throw new Error(`launcher exited (${child.exitCode}) before ${pattern}:\n${out}`);
        if (Date.now() > deadline) throw new Error(`launcher did not log ${pattern} within ${timeoutMs}ms:\n${out}`);
        await sleep(50);
      }
    },
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
  await launcher.waitForOutput(/launcher started/, 30_000);
  return launcher;
}

export type Rest = ReturnType<typeof restClient>;
export const serviceRest = (api: SpawnedApi): Rest => restClient(api.apiBase, { "x-ops-service-token": api.serviceToken });

/** Creates an interactive task for the agent and dispatches it; answers the task id. */
export async function dispatchTask(rest: Rest, fields: { title: string; description?: string; agent_slug: string; model?: string }): Promise<number> {
  const created = await rest("POST", "/tasks", { execution: "interactive", description: "", ...fields });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const id = created.body.id as number;
  const queued = await rest("POST", `/tasks/${id}/dispatch`);
  expect(queued.status, JSON.stringify(queued.body)).toBe(200);
  return id;
}

export async function waitForTask(rest: Rest, id: number, predicate: (task: any) => boolean, what: string, timeoutMs = 20_000): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  let last: any;
  for (;;) {
    last = (await rest("GET", `/tasks/${id}`)).body;
    if (predicate(last)) return last;
    if (Date.now() > deadline) throw new Error(`task ${id} did not reach "${what}" within ${timeoutMs}ms; last: ${JSON.stringify(last)}`);
    await sleep(50);
  }
}

export async function ensureAgent(rest: Rest, slug: string, extra: Record<string, unknown> = {}): Promise<number> {
  const res = await rest("POST", "/agents", { slug, name: slug, ...extra });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return res.body.id as number;
}

/** What the fake agent recorded for a task: argv, cwd, pid, env flags. */
export async function agentRecord(dirs: LauncherDirs, taskId: number, timeoutMs = 10_000): Promise<{ args: string[]; pid: number; cwd: string; env: Record<string, unknown> }> {
  const path = join(dirs.out, `${taskId}.json`);
  const deadline = Date.now() + timeoutMs;
  while (!existsSync(path)) {
    if (Date.now() > deadline) throw new Error(`the fake agent never ran for task ${taskId} (no ${path})`);
    await sleep(50);
  }
  return JSON.parse(readFileSync(path, "utf8"));
}

/**
 * SIGKILLs the spawned API for real. spawnApi runs tsx's CLI, which runs the
 * API in a child process; a SIGKILL to the CLI alone leaves that child serving.
 */
export async function killApiHard(api: SpawnedApi): Promise<void> {
  const parent = api.process.pid!;
  const children = (() => {
    try {
      return readFileSync(`/proc/${parent}/task/${parent}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
    } catch {
      return [];
    }
  })();
  for (const pid of children) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  await api.stop("SIGKILL");
  for (let i = 0; i < 50 && children.some(pidAlive); i++) await sleep(100);
}

export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

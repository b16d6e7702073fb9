import { mkdirSync, readdirSync, readFileSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import {
  agentRecord,
  dispatchTask,
  ensureAgent,
  FAKE_AGENT,
  killApiHard,
  launcherDirs,
  pidAlive,
  type Rest,
  type RunningLauncher,
  serviceRest,
  sleep,
  startLauncher,
  waitForTask,
} from "./harness.ts";

// Runs seen from the control plane, with real processes: the API on
// PostgreSQL, launchers, fake agent CLIs that print over several seconds.

const SECRET = "fake-provider-key-0123456789abcdef";
let db: FreshDatabase;
let api: SpawnedApi;
let rest: Rest;
let launcher: RunningLauncher;
const dirs = launcherDirs();

/** Aged files of a launch finished long ago, and fresh ones, waiting in the log folder before the launcher starts. */
const OLD_LAUNCH = "900-20240101T000000000Z";
const FRESH_LAUNCH = "901-20240102T000000000Z";

const runsOf = async (id: number) => (await rest("GET", `/tasks/${id}/runs`)).body as any[];
const outputOf = async (id: number, run: number, offset = 0) => (await rest("GET", `/tasks/${id}/runs/${run}/output?offset=${offset}&limit_kb=100000`)).body;
const fullText = (output: { chunks: Array<{ text: string }> }) => output.chunks.map((c) => c.text).join("");

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

beforeAll(async () => {
  db = await createFreshDatabase("ops_runs");
  api = await spawnApi({ databaseUrl: db.url });
  rest = serviceRest(api);
  for (const slug of ["chatty", "notloggedin", "sleeper", "viaops", "nocreds"]) await ensureAgent(rest, slug);
  const agents = (await rest("GET", "/agents")).body as Array<{ id: number; slug: string }>;
  const viaops = agents.find((a) => a.slug === "viaops")!;
  expect((await rest("PATCH", `/agents/${viaops.id}`, { launch_command: `${FAKE_AGENT} ok {prompt}` })).status).toBe(200);
  expect((await rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
  mkdirSync(dirs.logDir, { recursive: true });
  for (const [launch, daysAgo] of [[OLD_LAUNCH, 40], [FRESH_LAUNCH, 1]] as const) {
    for (const suffix of [".log", ".err.log", ".exit", ".prompt.md", ".log.1"]) {
      const path = join(dirs.logDir, `${launch}${suffix}`);
      writeFileSync(path, "old run\n");
      const at = new Date(Date.now() - daysAgo * 86_400_000);
      utimesSync(path, at, at);
    }
  }
  launcher = await startLauncher(api, dirs, {
    OPS_WORKER_ID: "runs-worker",
    OPS_MAX_CONCURRENT: "3",
    OPS_LAUNCHER_LOG_RETENTION_DAYS: "14",
    // Slow heartbeats: a cancel that arrives quickly came through dispatch/stops, not the heartbeat.
    OPS_HEARTBEAT_INTERVAL_MS: "20000",
    SUPPORTED_AGENT_SLUGS: "chatty,notloggedin,sleeper,viaops,nocreds",
    AGENT_CMD_CHATTY: `${FAKE_AGENT} chatty 40 150 {prompt}`,
    AGENT_CREDENTIALS_CHATTY: "env:FAKE_AGENT_SECRET",
    FAKE_AGENT_SECRET: SECRET,
    AGENT_CMD_NOTLOGGEDIN: `${FAKE_AGENT} notloggedin {prompt}`,
    AGENT_CMD_SLEEPER: `${FAKE_AGENT} sleep {prompt}`,
    AGENT_CMD_NOCREDS: `${FAKE_AGENT} ok {prompt}`,
    AGENT_CREDENTIALS_NOCREDS: "env:FAKE_KEY_NOBODY_SET",
  });
}, 120_000);

afterAll(async () => {
  await launcher?.stop();
  await api?.stop();
  await db?.drop();
  rmSync(dirs.root, { recursive: true, force: true });
});

describe("runs and their output", () => {
  it("streams an agent's output while it runs: both streams, in order, credentials replaced", async () => {
    const id = await dispatchTask(rest, { title: "chatty run", agent_slug: "chatty" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ attempt: 1, worker_id: "runs-worker", agent_slug: "chatty", outcome: null });
    // Part of the output is there while the agent is still running.
    const partial = await waitFor("output while running", async () => {
      const out = await outputOf(id, run.id);
      return out.chunks.length > 0 ? out : undefined;
    });
    expect((await rest("GET", `/tasks/${id}`)).body.status).toBe("doing");
    expect(partial.done).toBe(false);
    const task = await waitForTask(rest, id, (t) => t.status === "review", "review", 30_000);
    const done = await waitFor("all output", async () => {
      const out = await outputOf(id, run.id);
      return out.done ? out : undefined;
    });
    const text = fullText(done);
    const expected = Array.from({ length: 40 }, (_, i) => i + 1)
      .filter((n) => n % 5 !== 0)
      .map((n) => `out line ${n}${n === 3 ? " token=*** key=***" : ""}\n`)
      .join("");
    expect(done.chunks.filter((c: any) => c.stream === "stdout").map((c: any) => c.text).join("")).toBe(expected);
    expect(done.chunks.filter((c: any) => c.stream === "stderr").map((c: any) => c.text).join("")).toBe(
      [5, 10, 15, 20, 25, 30, 35, 40].map((n) => `\u001b[31merr line ${n}\u001b[0m\n`).join(""),
    );
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain(api.serviceToken);
    const [finished] = await runsOf(id);
    expect(finished).toMatchObject({ outcome: "review", exit_code: 0, log_path: task.dispatch_output.log_path, err_log_path: task.dispatch_output.err_log_path });
    expect(finished.output.stdout_bytes).toBe(readFileSync(task.dispatch_output.log_path).length);
    expect(finished.output.stderr_bytes).toBe(readFileSync(task.dispatch_output.err_log_path).length);
    // curl's form: plain text, the next offset in a header.
    const res = await fetch(`${api.apiBase}/tasks/${id}/runs/${run.id}/output?format=text`, { headers: { "x-ops-service-token": api.serviceToken } });
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    expect(await res.text()).toBe(text);
    expect(Number(res.headers.get("x-ops-next-offset"))).toBe(Buffer.byteLength(text));
  });

  it("an API killed mid-run loses no output: the launcher catches up from its offsets", async () => {
    const id = await dispatchTask(rest, { title: "chatty through an outage", agent_slug: "chatty" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const [run] = await runsOf(id);
    await waitFor("some output", async () => ((await outputOf(id, run.id)).chunks.length > 0 ? true : undefined));
    await killApiHard(api);
    await sleep(2500);
    await api.restart();
    await waitForTask(rest, id, (t) => t.status === "review", "review", 60_000);
    const done = await waitFor("all output after the outage", async () => {
      const out = await outputOf(id, run.id);
      return out.done ? out : undefined;
    }, 60_000);
    const stdout = done.chunks.filter((c: any) => c.stream === "stdout").map((c: any) => c.text).join("");
    const lines = stdout.trim().split("\n").map((l: string) => l.replace(/ token=.*$/, ""));
    expect(lines).toEqual(Array.from({ length: 40 }, (_, i) => i + 1).filter((n) => n % 5 !== 0).map((n) => `out line ${n}`));
    const [after] = await runsOf(id);
    const logPath = (await rest("GET", `/tasks/${id}`)).body.dispatch_output.log_path;
    expect(after.output.stdout_bytes).toBe(readFileSync(logPath).length);
  });

  it("a failing agent's reason printed on stdout reaches the blocker entry, labelled as agent output", async () => {
    const id = await dispatchTask(rest, { title: "not logged in", agent_slug: "notloggedin" });
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
    expect(task.blocked_reason).toBe("launcher process exited early (code=1, signal=null)");
    const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; body: string }>;
    const blocker = context.find((c) => c.kind === "blocker")!.body;
    expect(blocker).toMatch(/> Agent output, last lines of stdout \(.*\.log\):\n> Not logged in · Please run \/login/);
    expect(blocker).toMatch(/> Agent output, last lines of stderr \(.*\.err\.log\):\n> \(empty\)/);
    // The same lines, as the agent's own entry: what the next attempt's prompt quotes as untrusted.
    expect(context.find((c) => c.kind === "agent-output")!.body).toMatch(/Not logged in · Please run \/login/);
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ outcome: "early_exit", reason_code: "EARLY_EXIT", exit_code: 1 });
  });

  it("a cancel reaches a busy launcher through dispatch/stops, long before its next heartbeat", async () => {
    const id = await dispatchTask(rest, { title: "cancel me", agent_slug: "sleeper" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(dirs, id);
    // Let the launcher's first heartbeat after the start go by: the next is 20 s away.
    await sleep(500);
    expect((await rest("POST", `/tasks/${id}/cancel`)).status).toBe(200);
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting after cancel", 10_000);
    expect(task.blocked_reason).toBe("cancelled by operator: agent stopped (signal=SIGTERM)");
    expect(pidAlive(pid)).toBe(false);
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ outcome: "cancelled", reason_code: "CANCELLED" });
  });

  it("removed the detached logs of launches past OPS_LAUNCHER_LOG_RETENTION_DAYS when it started, and kept the rest", () => {
    const files = readdirSync(dirs.logDir);
    expect(files.filter((f) => f.startsWith(OLD_LAUNCH))).toEqual([]);
    expect(files.filter((f) => f.startsWith(FRESH_LAUNCH))).toHaveLength(5);
    expect(readFileSync(dirs.workerLog, "utf8")).toContain("removed the logs of finished launches past their retention");
  });

  it("heartbeats every runtime's state with its reason; the dispatch explanation quotes it", async () => {
    const health = (await rest("GET", "/dispatch/health")).body;
    const worker = health.workers.find((w: { worker_id: string }) => w.worker_id === "runs-worker");
    const bySlug = Object.fromEntries(worker.runtimes.map((r: any) => [r.slug, r]));
    expect(bySlug.chatty).toMatchObject({ state: "usable", reason: null, version: "fake-agent 0.0.1" });
    expect(bySlug.nocreds.state).toBe("not_authenticated");
    expect(bySlug.nocreds.reason).toContain("FAKE_KEY_NOBODY_SET");
    // viaops has no command on this host: it runs through its launch_command in OPS.
    expect(bySlug.viaops).toMatchObject({ state: "usable" });
    const id = await dispatchTask(rest, { title: "nobody can run this", agent_slug: "nocreds" });
    const explanation = (await rest("GET", `/tasks/${id}/dispatch-explanation`)).body;
    const reason = explanation.reasons.find((r: any) => r.code === "RUNTIME_NOT_USABLE");
    expect(reason.message).toMatch(/^nocreds on runs-worker: not authenticated \(installed but not authenticated \(none of: FAKE_KEY_NOBODY_SET/);
    expect(reason.params).toMatchObject({ slug: "nocreds", worker: "runs-worker", state: "not_authenticated" });
    expect((await rest("POST", `/tasks/${id}/cancel`)).status).toBe(200);
  });
});

describe("run time limits", () => {
  it("a run past its limit is stopped (SIGTERM, then SIGKILL) and its task blocked; a restart does not reset the clock", async () => {
    const d = launcherDirs();
    await ensureAgent(rest, "hanger");
    const env = { OPS_WORKER_ID: "runs-timer", SUPPORTED_AGENT_SLUGS: "hanger", AGENT_CMD_HANGER: `${FAKE_AGENT} stubborn {prompt}` };
    let l = await startLauncher(api, d, env);
    const created = await rest("POST", "/tasks", { title: "hangs forever", execution: "interactive", agent_slug: "hanger", run_timeout_minutes: 1 });
    const id = created.body.id as number;
    expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(d, id);
    expect((await runsOf(id))[0].timeout_minutes).toBe(1);
    // The launcher goes down with the run 50 s old; it comes back 70 s in: the limit has passed while it was away.
    await l.stop("SIGKILL");
    const statePath = join(d.stateDir, "runs-timer.json");
    const state = JSON.parse(readFileSync(statePath, "utf8"));
    state.launches[0].startedAt -= 70_000;
    writeFileSync(statePath, JSON.stringify(state));
    expect(pidAlive(pid)).toBe(true);
    l = await startLauncher(api, d, env);
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting after the time limit", 20_000);
    expect(task.blocked).toBe(true);
    expect(task.blocked_reason).toBe("agent timed out after 1 min");
    expect(pidAlive(pid)).toBe(false);
    const [run] = await runsOf(id);
    expect(run).toMatchObject({ outcome: "timed_out", reason: "agent timed out after 1 min", reason_code: "RUN_TIMED_OUT", signal: "SIGKILL" });
    const alerts = (await rest("GET", "/alerts")).body as Array<{ task_id: number; message: string }>;
    expect(alerts.find((a) => a.task_id === id)?.message).toContain("agent timed out after 1 min");
    await l.stop();
    rmSync(d.root, { recursive: true, force: true });
  });
});

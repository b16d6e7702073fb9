import { AGENT_OUTPUT_QUOTE_MARKER } from "@ops/contract";
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
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

// Real processes end to end: the API (PGlite), the launcher, fake agent CLIs.
let api: SpawnedApi;
let rest: Rest;
let launcher: RunningLauncher;
const dirs = launcherDirs();
const pwned = join(dirs.root, "pwned");

beforeAll(async () => {
  api = await spawnApi();
  rest = serviceRest(api);
  for (const slug of ["fakeok", "fakefail", "fakesleep", "fakestubborn", "fakeecho", "fakegone", "fakenocreds", "fakeshell"]) await ensureAgent(rest, slug);
  // The host has a command for fakegone, but the agent's launch_command in OPS (which wins) names a CLI this host lacks.
  const agents = (await rest("GET", "/agents")).body as Array<{ id: number; slug: string }>;
  const gone = agents.find((a) => a.slug === "fakegone")!;
  expect((await rest("PATCH", `/agents/${gone.id}`, { launch_command: "ops-cli-not-installed-here run {prompt}" })).status).toBe(200);
  // An instance admin's launch_command whose program this host does not allow (a shell): the host's command does not save it.
  const shell = agents.find((a) => a.slug === "fakeshell")!;
  expect((await rest("PATCH", `/agents/${shell.id}`, { launch_command: `/bin/sh -c 'id > ${pwned}'` })).status).toBe(200);
  expect((await rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
  launcher = await startLauncher(api, dirs, {
    OPS_WORKER_ID: "e2e-worker",
    OPS_MAX_CONCURRENT: "4",
    SUPPORTED_AGENT_SLUGS: "fakeok,fakefail,fakesleep,fakestubborn,fakeecho,fakegone,fakenocreds,fakenotinstalled,fakeshell",
    AGENT_CMD_FAKESHELL: `${FAKE_AGENT} ok {prompt}`,
    // The launcher's own secrets and an unlisted variable: none may reach an agent.
    DATABASE_URL: "postgres://launcher:canary-db-password@127.0.0.1/ops",
    UNLISTED_CANARY: "canary-not-for-agents",
    // Installed but not authenticated, and not installed: neither is usable, so neither is heartbeated or claimed for.
    AGENT_CMD_FAKENOCREDS: `${FAKE_AGENT} ok {prompt}`,
    AGENT_CREDENTIALS_FAKENOCREDS: "env:FAKE_AGENT_KEY_THAT_IS_NOT_SET",
    AGENT_CMD_FAKENOTINSTALLED: "fake-cli-not-installed run {prompt}",
    AGENT_CMD_FAKESTUBBORN: `${FAKE_AGENT} stubborn {prompt}`,
    AGENT_CMD_FAKEOK: `${FAKE_AGENT} ok {prompt}`,
    AGENT_CMD_FAKEFAIL: `${FAKE_AGENT} fail {prompt}`,
    AGENT_CMD_FAKESLEEP: `${FAKE_AGENT} sleep {prompt}`,
    AGENT_CMD_FAKEECHO: `${FAKE_AGENT} echo {prompt} --task={task_id} [--model {model}] {workdir}`,
    AGENT_CMD_FAKEGONE: `${FAKE_AGENT} echo {prompt}`,
  });
}, 120_000);

afterAll(async () => {
  await launcher?.stop();
  await api?.stop();
  rmSync(dirs.root, { recursive: true, force: true });
});

describe("launcher end to end", () => {
  it("heartbeats only its usable runtimes, with their versions", async () => {
    const health = (await rest("GET", "/dispatch/health")).body;
    const worker = health.workers.find((w: { worker_id: string }) => w.worker_id === "e2e-worker");
    expect(worker).toBeDefined();
    expect([...worker.agent_slugs].sort()).toEqual(["fakeecho", "fakefail", "fakegone", "fakeok", "fakeshell", "fakesleep", "fakestubborn"]);
    expect(worker.cli_versions.fakeok).toBe("fake-agent 0.0.1");
    expect(worker.fresh).toBe(true);
    expect(launcher.output()).toMatch(/"fakenocreds":"installed but not authenticated/);
    expect(launcher.output()).toMatch(/"fakenotinstalled":"runtime no disponible en host: fake-cli-not-installed"/);
  });

  it("does not claim work for a runtime without credentials", async () => {
    const id = await dispatchTask(rest, { title: "nobody can run this", agent_slug: "fakenocreds" });
    await sleep(1500);
    expect((await rest("GET", `/tasks/${id}`)).body.status).toBe("queued");
    expect((await rest("POST", `/tasks/${id}/cancel`)).status).toBe(200);
  });

  it("picks a dispatched task up within a second; success ends in review with logs on disk and a checkpoint", async () => {
    const id = await dispatchTask(rest, { title: "write the report", description: "Summarise the logs", agent_slug: "fakeok" });
    const dispatchedAt = Date.now();
    await waitForTask(rest, id, (t) => t.status !== "queued", "picked up");
    const pickupMs = Date.now() - dispatchedAt;
    expect(pickupMs).toBeLessThan(1000);

    const task = await waitForTask(rest, id, (t) => t.status === "review", "review");
    expect(task.blocked).toBe(false);
    const output = task.dispatch_output;
    expect(output.worker_id).toBe("e2e-worker");
    expect(output.exit_code).toBe(0);
    expect(output.log_path).toMatch(new RegExp(`^${dirs.logDir}/${id}-\\d{8}T\\d+Z\\.log$`));
    expect(output.err_log_path).toBe(output.log_path.replace(/\.log$/, ".err.log"));
    expect(readFileSync(output.log_path, "utf8")).toContain(`fake agent working on task ${id}`);
    expect(existsSync(output.err_log_path)).toBe(true);

    const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; source: string; body: string }>;
    expect(context.find((c) => c.kind === "deliverable")?.body).toBe(`deliverable of task ${id}`);
    const checkpoint = context.find((c) => c.kind === "checkpoint" && c.source === "launcher");
    expect(checkpoint?.body).toContain("exit code 0");
    expect(checkpoint?.body).toContain(output.log_path);
    const times = (await rest("GET", `/tasks/${id}/time-logs`)).body as Array<{ source: string; minutes: number }>;
    expect(times.some((t) => t.source === "ai" && t.minutes >= 1)).toBe(true);

    const seen = await agentRecord(dirs, id);
    expect(seen.env).toMatchObject({ OPS_TASK_ID: String(id), OPS_API_BASE: api.apiBase, has_task_token: true, has_service_token: false });
    // No folder set: the task's own, under the first of OPS_WORKDIR_ROOTS.
    expect(seen.cwd).toBe(join(dirs.root, `task-${id}`));
    // The allowlist, as the real agent process saw it.
    expect(seen.env.names).toEqual(expect.arrayContaining(["PATH", "HOME", "OPS_TASK_TOKEN", "OPS_API_BASE", "FAKE_AGENT_OUT"]));
    for (const hidden of ["OPS_SERVICE_TOKEN", "DATABASE_URL", "UNLISTED_CANARY", "OPS_LAUNCHER_STATE_DIR", "AGENT_CMD_FAKEOK"]) expect(seen.env.names).not.toContain(hidden);
  });

  it("a working folder outside OPS_WORKDIR_ROOTS (or a link out of them) blocks the task with the reason, and nothing runs", async () => {
    const { mkdirSync, symlinkSync } = await import("node:fs");
    mkdirSync(join(dirs.root, "inside"), { recursive: true });
    symlinkSync("/etc", join(dirs.root, "inside", "out"));
    for (const [dir, reason] of [
      ["/etc", `working folder /etc is outside this host's OPS_WORKDIR_ROOTS (${dirs.root})`],
      [join(dirs.root, "inside", "out"), `working folder ${join(dirs.root, "inside", "out")} (resolves to /etc) is outside this host's OPS_WORKDIR_ROOTS (${dirs.root})`],
    ] as const) {
      const created = await rest("POST", "/tasks", { title: "work in /etc", execution: "interactive", agent_slug: "fakeok", working_dir: dir });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      const id = created.body.id as number;
      expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
      const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
      expect(task.blocked_reason).toBe(reason);
      const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; body: string }>;
      expect(context.find((c) => c.kind === "blocker")?.body).toContain(reason);
      const runs = (await rest("GET", `/tasks/${id}/runs`)).body as Array<{ reason_code: string | null }>;
      expect(runs[0]?.reason_code).toBe("WORKDIR_NOT_ALLOWED");
      expect(existsSync(join(dirs.out, `${id}.json`))).toBe(false);
    }
  });

  it("an OPS launch_command whose program this host does not allow blocks the task with the reason, and the shell never runs", async () => {
    const id = await dispatchTask(rest, { title: "shell please", agent_slug: "fakeshell" });
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
    expect(task.blocked_reason).toBe("launch_command program /bin/sh is not allowed on this host; add it to OPS_ALLOWED_PROGRAMS");
    const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; body: string }>;
    expect(context.find((c) => c.kind === "blocker")?.body).toContain("allowed programs (default): opencode, claude, codex, hermes");
    expect(existsSync(pwned)).toBe(false);
  });

  it("an agent that exits at once blocks the task with the exact early-exit signature and the .err.log tail as agent output", async () => {
    const id = await dispatchTask(rest, { title: "will fail", agent_slug: "fakefail" });
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
    expect(task.blocked).toBe(true);
    expect(task.blocked_reason).toBe("launcher process exited early (code=3, signal=null)");
    const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; source: string; body: string }>;
    const blocker = context.find((c) => c.kind === "blocker");
    expect(blocker).toMatchObject({ source: "launcher", body: expect.stringContaining("launcher process exited early (code=3, signal=null)") });
    // What the agent printed is its own words: never in the launcher's part of the blocker, only quoted after the marker.
    const [own, quoted] = blocker!.body.split(`\n\n${AGENT_OUTPUT_QUOTE_MARKER}\n`);
    expect(own).not.toContain("fake-agent: boom");
    expect(quoted).toMatch(/^> Agent output, last lines of stdout .*\n> \(empty\)\n> \n> Agent output, last lines of stderr .*\n> fake-agent: boom, missing configuration$/);
    expect(context.find((c) => c.kind === "agent-output")).toMatchObject({ source: "ai", body: expect.stringContaining("fake-agent: boom, missing configuration") });
    const times = (await rest("GET", `/tasks/${id}/time-logs`)).body as Array<{ source: string }>;
    expect(times.some((t) => t.source === "ai")).toBe(true);
  });

  it("a launch command whose CLI is not on this host blocks the task with the exact missing-runtime signature", async () => {
    const id = await dispatchTask(rest, { title: "needs a missing cli", agent_slug: "fakegone" });
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
    expect(task.blocked_reason).toBe("runtime no disponible en host: ops-cli-not-installed-here");
    const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; body: string }>;
    expect(context.find((c) => c.kind === "blocker")?.body).toContain("runtime no disponible en host: ops-cli-not-installed-here");
  });

  it("hostile task text reaches the agent as one argument and runs nothing", async () => {
    const title = `--help $(touch ${pwned}) \`touch ${pwned}\``;
    const description = [`; rm -rf ${dirs.logDir} ;`, `$(touch ${pwned})`, "`id`", "--dangerously-skip-permissions", `' " \\ | & > ${pwned}`].join("\n");
    const id = await dispatchTask(rest, { title, description, agent_slug: "fakeecho", model: "qwen3.6" });
    await waitForTask(rest, id, (t) => t.status === "review", "review");
    const seen = await agentRecord(dirs, id);
    // echo {prompt} --task={task_id} [--model {model}] {workdir}: exactly five elements after the mode.
    expect(seen.args).toHaveLength(5);
    expect(seen.args[0]).toContain(`Title: ${title}`);
    expect(seen.args[0]).toContain(description);
    expect(seen.args[0]!.startsWith("You are an AI agent")).toBe(true);
    expect(seen.args.slice(1)).toEqual([`--task=${id}`, "--model", "qwen3.6", join(dirs.root, `task-${id}`)]);
    expect(existsSync(pwned)).toBe(false);
    expect(existsSync(dirs.logDir)).toBe(true);
  });

  it("an operator cancel stops the agent's process group and blocks the task", async () => {
    const id = await dispatchTask(rest, { title: "long job", agent_slug: "fakesleep" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(dirs, id);
    expect(pidAlive(pid)).toBe(true);
    const wrapperPid = (await rest("GET", `/tasks/${id}`)).body.dispatch_output.pid as number;
    expect((await rest("POST", `/tasks/${id}/cancel`)).status).toBe(200);
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting after cancel");
    expect(task.blocked_reason).toBe("cancelled by operator: agent stopped (signal=SIGTERM)");
    expect(pidAlive(pid)).toBe(false);
    expect(pidAlive(wrapperPid)).toBe(false);
  });

  it("an agent that ignores SIGTERM is killed after the grace period", async () => {
    const id = await dispatchTask(rest, { title: "stubborn job", agent_slug: "fakestubborn" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(dirs, id);
    const cancelledAt = Date.now();
    expect((await rest("POST", `/tasks/${id}/cancel`)).status).toBe(200);
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting after cancel");
    expect(task.blocked_reason).toBe("cancelled by operator: agent stopped (signal=SIGKILL)");
    // OPS_STOP_GRACE_MS=2000 in the test launcher.
    expect(Date.now() - cancelledAt).toBeGreaterThanOrEqual(2000);
    // A killed process is gone once reaped (its parent, the wrapper, died with it).
    for (let i = 0; i < 30 && pidAlive(pid); i++) await sleep(100);
    expect(pidAlive(pid)).toBe(false);
  });

  it("an unwritable log folder becomes a clear failure on the task, not a silent loss", async () => {
    const blockedDir = join(dirs.root, "not-a-folder");
    writeFileSync(blockedDir, "a file where the log folder should be");
    const other = launcherDirs();
    const second = await startLauncher(api, { ...other, logDir: join(blockedDir, "logs") }, {
      OPS_WORKER_ID: "e2e-broken-logs",
      SUPPORTED_AGENT_SLUGS: "fakelogs",
      AGENT_CMD_FAKELOGS: `${FAKE_AGENT} ok {prompt}`,
    }).catch(async (error) => {
      throw error;
    });
    try {
      await ensureAgent(rest, "fakelogs");
      const id = await dispatchTask(rest, { title: "logs nowhere", agent_slug: "fakelogs" });
      const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
      expect(task.blocked_reason).toMatch(/^cannot write launch logs in .*not-a-folder\/logs: ENOTDIR/);
    } finally {
      await second.stop();
      rmSync(other.root, { recursive: true, force: true });
    }
  });

  it("the detached log folder holds <task>-<timestamp>.log and .err.log per launch", () => {
    const files = readdirSync(dirs.logDir);
    expect(files.some((f) => /^\d+-\d{8}T\d+Z\.log$/.test(f))).toBe(true);
    expect(files.some((f) => /^\d+-\d{8}T\d+Z\.err\.log$/.test(f))).toBe(true);
    expect(readFileSync(dirs.workerLog, "utf8")).toContain("reported finished");
  });
});

describe("launcher restarts", () => {
  it("after SIGKILL a restarted launcher re-adopts the live agent and reports its end", async () => {
    await ensureAgent(rest, "fakeuntil");
    const d = launcherDirs();
    const env = { OPS_WORKER_ID: "e2e-restart", SUPPORTED_AGENT_SLUGS: "fakeuntil", AGENT_CMD_FAKEUNTIL: `${FAKE_AGENT} until ${join(d.root, "go")} {prompt}` };
    let l = await startLauncher(api, d, env);
    const id = await dispatchTask(rest, { title: "survive a restart", agent_slug: "fakeuntil" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(d, id);
    await l.stop("SIGKILL");
    await sleep(300);
    expect(pidAlive(pid)).toBe(true);
    l = await startLauncher(api, d, env);
    expect(l.output()).toContain("re-adopted running agent");
    writeFileSync(join(d.root, "go"), "");
    const task = await waitForTask(rest, id, (t) => t.status === "review", "review");
    expect(task.dispatch_output.exit_code).toBe(0);
    await l.stop();
    rmSync(d.root, { recursive: true, force: true });
  });

  it("SIGTERM leaves the agent running; a run that ended while the launcher was down is reported on restart", async () => {
    const d = launcherDirs();
    const env = { OPS_WORKER_ID: "e2e-restart-2", SUPPORTED_AGENT_SLUGS: "fakeuntil", AGENT_CMD_FAKEUNTIL: `${FAKE_AGENT} until ${join(d.root, "go")} {prompt}` };
    let l = await startLauncher(api, d, env);
    const id = await dispatchTask(rest, { title: "finish while down", agent_slug: "fakeuntil" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(d, id);
    await l.stop("SIGTERM");
    expect(l.process.exitCode).toBe(0);
    expect(l.output()).toContain("running agents left alone");
    expect(pidAlive(pid)).toBe(true);
    writeFileSync(join(d.root, "go"), "");
    for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
    expect(pidAlive(pid)).toBe(false);
    expect((await rest("GET", `/tasks/${id}`)).body.status).toBe("doing");
    l = await startLauncher(api, d, env);
    expect(l.output()).toContain("agent ended while the launcher was down");
    await waitForTask(rest, id, (t) => t.status === "review", "review");
    await l.stop();
    rmSync(d.root, { recursive: true, force: true });
  });

  it("a report the API could not take (API down) is kept and retried until it goes through", async () => {
    await ensureAgent(rest, "fakeapidown");
    const d = launcherDirs();
    const env = { OPS_WORKER_ID: "e2e-api-down", SUPPORTED_AGENT_SLUGS: "fakeapidown", AGENT_CMD_FAKEAPIDOWN: `${FAKE_AGENT} until ${join(d.root, "go")} {prompt}` };
    const l = await startLauncher(api, d, env);
    const id = await dispatchTask(rest, { title: "finish while the API is down", agent_slug: "fakeapidown" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(d, id);
    await killApiHard(api);
    writeFileSync(join(d.root, "go"), "");
    for (let i = 0; i < 50 && pidAlive(pid); i++) await sleep(100);
    await l.waitForOutput(/finished report failed; will retry/);
    await api.restart();
    const task = await waitForTask(rest, id, (t) => t.status === "review", "review", 40_000);
    expect(task.dispatch_output.exit_code).toBe(0);
    await l.stop();
    rmSync(d.root, { recursive: true, force: true });
  });
});


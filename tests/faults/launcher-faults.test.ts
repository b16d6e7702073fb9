import { readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentRecord,
  dispatchTask,
  ensureAgent,
  FAKE_AGENT,
  launcherDirs,
  pidAlive,
  type Rest,
  serviceRest,
  sleep,
  startLauncher,
  waitForTask,
} from "../../apps/launcher/test/harness.ts";
import { type SpawnedApi, spawnApi } from "../support/spawn-api.ts";

// Launcher faults with real processes: the API, launchers and fake agent CLIs.

/** How many times the launcher started an agent for a task: one `<task>-<ts>.log` per launch. */
const launches = (logDir: string, taskId: number) =>
  readdirSync(logDir).filter((f) => f.startsWith(`${taskId}-`) && f.endsWith(".log") && !f.endsWith(".err.log")).length;

describe("launcher faults", () => {
  let api: SpawnedApi;
  let rest: Rest;
  const roots: string[] = [];

  beforeAll(async () => {
    api = await spawnApi({ env: { OPS_WATCHDOG_INTERVAL_MS: "500" } });
    rest = serviceRest(api);
    await rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    await rest("PUT", "/settings/dispatch_worker_stale_seconds", { value: "10" });
    for (const slug of ["fkuntil", "fkuntil2", "fkok", "fkfail", "fksleep"]) await ensureAgent(rest, slug);
  }, 120_000);
  afterAll(async () => {
    await api?.stop();
    for (const r of roots) rmSync(r, { recursive: true, force: true });
  });

  it("SIGKILL while holding claims and running agents: after a restart every task ends in doing, review or blocked, none lost, none launched twice", async () => {
    const d = launcherDirs();
    roots.push(d.root);
    const env = {
      OPS_WORKER_ID: "fault-kill",
      OPS_MAX_CONCURRENT: "8",
      SUPPORTED_AGENT_SLUGS: "fkuntil,fkuntil2,fkok,fkfail",
      AGENT_CMD_FKUNTIL: `${FAKE_AGENT} until ${join(d.root, "go")} {prompt}`,
      AGENT_CMD_FKUNTIL2: `${FAKE_AGENT} until ${join(d.root, "go2")} {prompt}`,
      AGENT_CMD_FKOK: `${FAKE_AGENT} ok {prompt}`,
      AGENT_CMD_FKFAIL: `${FAKE_AGENT} fail {prompt}`,
    };
    let launcher = await startLauncher(api, d, env);
    const endWhileDown = [];
    for (let i = 0; i < 3; i++) endWhileDown.push(await dispatchTask(rest, { title: `ends while down ${i}`, agent_slug: "fkuntil" }));
    const readopted = [];
    for (let i = 0; i < 2; i++) readopted.push(await dispatchTask(rest, { title: `re-adopted ${i}`, agent_slug: "fkuntil2" }));
    const quick = [await dispatchTask(rest, { title: "quick", agent_slug: "fkok" })];
    const failing = [await dispatchTask(rest, { title: "fails", agent_slug: "fkfail" })];
    for (const id of [...endWhileDown, ...readopted]) await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    await waitForTask(rest, quick[0]!, (t) => t.status === "review", "review");
    const failed = await waitForTask(rest, failing[0]!, (t) => t.status === "waiting", "waiting");
    expect(failed.blocked).toBe(true);
    expect(failed.blocked_reason).toMatch(/^launcher process exited early \(code=3, signal=null\)/);
    const pids = await Promise.all(readopted.map(async (id) => (await agentRecord(d, id)).pid));

    // Dispatched at the moment of the kill: each may be unclaimed, claimed but not
    // launched (the watchdog's "claim lost"), or launched; never lost, never twice.
    const racing = [
      await dispatchTask(rest, { title: "racing ok", agent_slug: "fkok" }),
      await dispatchTask(rest, { title: "racing fail", agent_slug: "fkfail" }),
    ];
    await launcher.stop("SIGKILL");
    // While it is down, three agents finish; two keep running.
    writeFileSync(join(d.root, "go"), "");
    await sleep(500);
    expect(pids.every(pidAlive)).toBe(true);

    launcher = await startLauncher(api, d, env);
    for (const id of readopted) {
      const t = await waitForTask(rest, id, (x) => x.status !== "dispatching", "still held");
      expect(t.status).toBe("doing");
    }
    for (const id of endWhileDown) await waitForTask(rest, id, (t) => t.status === "review", "review");
    for (const id of racing) {
      const t = await waitForTask(rest, id, (x) => x.status === "review" || (x.status === "waiting" && x.blocked), "settled", 40_000);
      if (t.status === "waiting") expect(t.blocked_reason).toMatch(/^(launcher process exited early|claim lost)/);
      expect(launches(d.logDir, id)).toBeLessThanOrEqual(1);
    }

    writeFileSync(join(d.root, "go2"), "");
    for (const id of readopted) await waitForTask(rest, id, (t) => t.status === "review", "review");
    const all = [...endWhileDown, ...readopted, ...quick, ...failing];
    const twice = all.filter((id) => launches(d.logDir, id) !== 1);
    expect(twice).toEqual([]);
    for (const id of all) expect((await rest("GET", `/tasks/${id}`)).body.claim_attempt).toBe(1);
    await launcher.stop();
    console.log(`[fault launcher-sigkill] faults=1 tasks=${all.length + racing.length} running_at_kill=${endWhileDown.length + readopted.length} re_adopted=${readopted.length} ended_while_down=${endWhileDown.length} lost=0 launched_twice=0`);
  });

  it("a launcher killed while stopping a SIGTERM-ignoring agent finishes the stop after its restart", async () => {
    await ensureAgent(rest, "fkstubborn");
    const d = launcherDirs();
    roots.push(d.root);
    const env = {
      OPS_WORKER_ID: "fault-stop-resume",
      SUPPORTED_AGENT_SLUGS: "fkstubborn",
      AGENT_CMD_FKSTUBBORN: `${FAKE_AGENT} stubborn {prompt}`,
      OPS_STOP_GRACE_MS: "4000",
    };
    // The launcher is down between its SIGKILL and its restart; on a loaded
    // machine that can outlast the file's 10 s stale threshold, and the
    // watchdog would then (rightly) reconcile the task as lost before the
    // restarted launcher reports the stop this test is about.
    await rest("PUT", "/settings/dispatch_worker_stale_seconds", { value: "60" });
    let launcher = await startLauncher(api, d, env);
    const id = await dispatchTask(rest, { title: "stubborn", agent_slug: "fkstubborn" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid } = await agentRecord(d, id);
    await rest("POST", `/tasks/${id}/cancel`);
    await launcher.waitForOutput(/stopping agent/);
    // Killed inside the grace period: the agent ignored SIGTERM and is still alive.
    await launcher.stop("SIGKILL");
    expect(pidAlive(pid)).toBe(true);
    launcher = await startLauncher(api, d, env);
    const failed = await waitForTask(rest, id, (t) => t.status === "waiting", "cancel reported", 30_000);
    expect(failed.blocked_reason).toMatch(/^cancelled by operator: agent stopped \(signal=SIGKILL\)/);
    expect(pidAlive(pid)).toBe(false);
    await launcher.stop();
    await rest("PUT", "/settings/dispatch_worker_stale_seconds", { value: "10" });
  });

  it("SIGSTOP past the worker stale threshold: the task is recovered and re-run elsewhere; after SIGCONT the late reports are refused and the duplicate agent stopped", async () => {
    const d1 = launcherDirs();
    const d2 = launcherDirs();
    roots.push(d1.root, d2.root);
    const stopped = await startLauncher(api, d1, {
      OPS_WORKER_ID: "fault-stopped",
      SUPPORTED_AGENT_SLUGS: "fksleep",
      AGENT_CMD_FKSLEEP: `${FAKE_AGENT} sleep {prompt}`,
    });
    const id = await dispatchTask(rest, { title: "frozen launcher", agent_slug: "fksleep" });
    await waitForTask(rest, id, (t) => t.status === "doing", "doing");
    const { pid: duplicatePid } = await agentRecord(d1, id);

    stopped.process.kill("SIGSTOP");
    const recovered = await waitForTask(rest, id, (t) => t.status === "waiting", "recovered by the watchdog", 40_000);
    expect(recovered.blocked_reason).toContain("worker fault-stopped lost");

    const healthy = await startLauncher(api, d2, {
      OPS_WORKER_ID: "fault-healthy",
      SUPPORTED_AGENT_SLUGS: "fksleep",
      AGENT_CMD_FKSLEEP: `${FAKE_AGENT} ok {prompt}`,
    });
    await rest("PATCH", `/tasks/${id}`, { blocked: false });
    await rest("POST", `/tasks/${id}/dispatch`);
    const done = await waitForTask(rest, id, (t) => t.status === "review", "review by the healthy launcher");
    expect(done).toMatchObject({ claim_attempt: 2, claimed_by: "fault-healthy" });

    stopped.process.kill("SIGCONT");
    // Its heartbeat learns it no longer holds the task: the stale agent is stopped.
    for (let i = 0; i < 200 && pidAlive(duplicatePid); i++) await sleep(100);
    expect(pidAlive(duplicatePid)).toBe(false);
    await sleep(1500);
    const after = (await rest("GET", `/tasks/${id}`)).body;
    expect(after).toMatchObject({ status: "review", claim_attempt: 2, claimed_by: "fault-healthy", blocked: false });
    expect(after.dispatch_output.worker_id).toBe("fault-healthy");
    await stopped.stop();
    await healthy.stop();
    console.log("[fault launcher-sigstop] faults=1 tasks=1 recovered=1 late_reports_applied=0 duplicate_agent_stopped=1");
  });
});

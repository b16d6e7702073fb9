import { spawn } from "node:child_process";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { HttpError, heartbeatBody } from "./client.ts";
import { REPO_ROOT } from "./api-process.ts";
import { preloadQueued, startOurSystem } from "./ours.ts";
import type { Sizes } from "./types.ts";
import { log, now, recordExecution, round, sleep, type Stats, stats } from "./util.ts";

export interface RecoveryResult {
  tasks: number;
  worker_stale_seconds: number;
  watchdog_interval_ms: number;
  victim_last_heartbeat_before_kill_ms: number;
  recovered_ms: Stats;
  redispatched_ms: Stats;
  finished_ms: Stats;
  lost: number;
  ran_twice: number;
  stale_report_refused: boolean;
  reconciled_audits: number;
  within_bound: boolean;
  bound_ms: number;
  projection_default_s: { worker_stale_seconds: number; watchdog_interval_s: number; expected_max_s: number; from_measurement_s: number };
}

const DEFAULT_STALE_S = 90;
const DEFAULT_WATCHDOG_S = 15;

/**
 * SIGKILL a worker process holding claims (tasks in doing), then time: the
 * watchdog recovering them (worker stale → waiting, blocked, claim cleared),
 * an operator script re-dispatching them, a surviving worker claiming and
 * finishing them. Nothing may be lost and nothing may run twice.
 */
export async function recoveryScenario(sizes: Sizes): Promise<RecoveryResult> {
  const sys = await startOurSystem("ops_bench_recovery", { OPS_WATCHDOG_INTERVAL_MS: String(sizes.recoveryWatchdogMs) });
  try {
    await sys.rest.call("PUT", "/settings/dispatch_worker_stale_seconds", { value: String(sizes.recoveryStaleSeconds) });
    await preloadQueued(sys.sql, sys.agentId, sizes.recoveryTasks);
    const victimId = "bench-victim";
    // node --import tsx directly (not the tsx CLI, which would run the worker in a grandchild the kill misses).
    const child = spawn(process.execPath, ["--import", "tsx", join(fileURLToPath(new URL(".", import.meta.url)), "recovery-worker.ts")], {
      cwd: REPO_ROOT,
      env: { ...process.env, OPS_API_BASE: sys.api.apiBase, OPS_SERVICE_TOKEN: sys.api.serviceToken, WORKER_ID: victimId, CLAIMS: String(sizes.recoveryTasks) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const ready = await new Promise<{ held: { id: number; attempt: number }[] }>((resolve, reject) => {
      let buf = "";
      child.stdout!.on("data", (d) => {
        buf += d;
        const m = /READY (.*)\n/.exec(buf);
        if (m) resolve(JSON.parse(m[1]!));
      });
      child.once("exit", (code) => reject(new Error(`victim exited early (${code})`)));
      setTimeout(() => reject(new Error("victim not ready in 30 s")), 30_000);
    });
    const held = ready.held;
    await sleep(1500); // a heartbeat or two, as a live worker would
    const [hb] = await sys.sql`select extract(epoch from (now() - last_seen_at)) * 1000 as ms from worker_heartbeats where worker_id = ${victimId}`;
    child.kill("SIGKILL");
    const tKill = now();
    await new Promise((r) => child.once("exit", r));
    log(`recovery: killed worker holding ${held.length} tasks; waiting for the watchdog (stale ${sizes.recoveryStaleSeconds} s)`);

    // A surviving worker, long-polling and heartbeating like a launcher.
    const survivor = "bench-survivor";
    const recovered = new Map<number, number>();
    const claimedAgain = new Map<number, number>();
    const finished = new Map<number, number>();
    let ranTwice = 0;
    let stop = false;
    const hb2 = setInterval(() => sys.rest.heartbeat(heartbeatBody(survivor)).catch(() => {}), 1000);
    await sys.rest.heartbeat(heartbeatBody(survivor));
    const survivorLoop = (async () => {
      while (!stop) {
        const r = await sys.rest.next({ worker_id: survivor, agent_slugs: ["opencode"], wait_ms: 2000 }).catch(() => ({ claimed: false }));
        if (!r.claimed) continue;
        const id = Number(r.task.id);
        claimedAgain.set(id, now() - tKill);
        await sys.rest.started({ id, worker_id: survivor, attempt: r.attempt, pid: process.pid, command: ["bench"], log_path: "/tmp/s.log", err_log_path: "/tmp/s.err" });
        if (!(await recordExecution(sys.sql, `task:${id}`, survivor))) ranTwice++;
        await sys.rest.finished({ id, worker_id: survivor, attempt: r.attempt, exit_code: 0, duration_ms: 1 });
        finished.set(id, now() - tKill);
      }
    })();

    // The operator's side: a recovered task (waiting, blocked by the watchdog) is re-dispatched at once.
    const deadline = now() + (sizes.recoveryStaleSeconds + 60) * 1000;
    const ids = held.map((h) => h.id);
    while (finished.size < ids.length && now() < deadline) {
      const rows = await sys.sql`select id, status, blocked from tasks where id in ${sys.sql(ids)}`;
      for (const row of rows) {
        const id = Number(row.id);
        if (!recovered.has(id) && row.status === "waiting" && row.blocked) {
          recovered.set(id, now() - tKill);
          await sys.rest.call("PATCH", `/tasks/${id}`, { blocked: false, blocked_reason: null });
          await sys.rest.call("POST", `/tasks/${id}/dispatch`, {});
        }
      }
      await sleep(25);
    }
    stop = true;
    clearInterval(hb2);
    await sys.sql`select pg_notify('ops_dispatch_queued', 'opencode')`;
    await Promise.race([survivorLoop, sleep(3000)]);

    // The killed worker's reports are fenced off: its attempt no longer holds the task.
    let refused = false;
    try {
      await sys.rest.finished({ id: held[0]!.id, worker_id: victimId, attempt: held[0]!.attempt, exit_code: 0, duration_ms: 1 });
    } catch (e) {
      refused = e instanceof HttpError && e.status >= 400 && e.status < 500;
    }
    const [check] = await sys.sql`select
        (select count(*)::int from tasks where id in ${sys.sql(ids)} and status = 'review') as reviewed,
        (select count(*)::int from bench_exec) as executed,
        (select count(*)::int from audit_log where action = 'dispatch.reconciled_stale') as audits`;
    const recoveredMs = [...recovered.values()];
    const bound = sizes.recoveryStaleSeconds * 1000 + sizes.recoveryWatchdogMs;
    const worst = recoveredMs.length ? Math.max(...recoveredMs) : Number.POSITIVE_INFINITY;
    const overshoot = worst - sizes.recoveryStaleSeconds * 1000; // watchdog pass + detection slack
    return {
      tasks: held.length,
      worker_stale_seconds: sizes.recoveryStaleSeconds,
      watchdog_interval_ms: sizes.recoveryWatchdogMs,
      victim_last_heartbeat_before_kill_ms: round(Number(hb?.ms ?? 0)),
      recovered_ms: stats(recoveredMs),
      redispatched_ms: stats([...claimedAgain.values()]),
      finished_ms: stats([...finished.values()]),
      lost: ids.length - Number(check!.reviewed),
      ran_twice: ranTwice + Math.max(0, Number(check!.executed) - ids.length),
      stale_report_refused: refused,
      reconciled_audits: Number(check!.audits),
      within_bound: worst <= bound,
      bound_ms: bound,
      projection_default_s: {
        worker_stale_seconds: DEFAULT_STALE_S,
        watchdog_interval_s: DEFAULT_WATCHDOG_S,
        expected_max_s: DEFAULT_STALE_S + DEFAULT_WATCHDOG_S,
        from_measurement_s: round(DEFAULT_STALE_S + Math.max(0, overshoot) / 1000, 1),
      },
    };
  } finally {
    await sys.stop();
  }
}

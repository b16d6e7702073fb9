import { queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { useInProcessApi } from "../../test/in-process.ts";

// One meaning of "stale": health counts and lists exactly the in-flight tasks
// the watchdog then reconciles, each with the reason the watchdog writes.

const api = useInProcessApi();

const exec = (text: string) => queryRows(api.db, sql.raw(text));

/** A task claimed by `worker` `ago` earlier, in `status`. */
async function inFlight(status: "dispatching" | "doing", worker: string, ago: string): Promise<number> {
  const task = await api.service.tasks.create({ title: `${status} by ${worker}`, execution: "interactive", agent_slug: "codex" });
  await exec(`update tasks set status = '${status}', claimed_by = '${worker}', claim_attempt = 1,
              claimed_at = now() - interval '${ago}' where id = ${task.id}`);
  return task.id;
}
async function heartbeat(worker: string, running: number[], ago = "0 seconds") {
  await api.service.dispatch.heartbeat({ worker_id: worker, hostname: "h", pid: 1, version: "t", agent_slugs: ["codex"], running_task_ids: running, free_slots: 1 });
  await exec(`update worker_heartbeats set last_seen_at = now() - interval '${ago}' where worker_id = '${worker}'`);
}

describe("stale, as health and the watchdog both mean it", () => {
  it("health flags, with the reason, exactly the tasks the watchdog reconciles", async () => {
    const timedOut = await inFlight("dispatching", "w-alive", "25 minutes");
    const lostWorker = await inFlight("doing", "w-lost", "5 minutes");
    const neverBeat = await inFlight("doing", "w-gone", "5 minutes");
    const claimLost = await inFlight("dispatching", "w-deaf", "3 minutes");
    const running = await inFlight("doing", "w-deaf", "3 minutes");
    const justClaimed = await inFlight("dispatching", "w-new", "5 seconds");
    await heartbeat("w-alive", [timedOut]);
    await heartbeat("w-lost", [lostWorker], "5 minutes");
    await heartbeat("w-deaf", [running]);

    const health = await api.service.dispatch.health({});
    const reasons = Object.fromEntries(health.dispatching.map((d) => [d.task_id, d.stale_reason]));
    expect(reasons).toEqual({
      [timedOut]: "stale_dispatch",
      [lostWorker]: "worker_lost",
      [neverBeat]: "worker_lost",
      [claimLost]: "claim_lost",
      [running]: null,
      [justClaimed]: null,
    });
    expect(health.dispatching.filter((d) => d.stale).map((d) => d.task_id).sort()).toEqual([timedOut, lostWorker, neverBeat, claimLost].sort());
    expect(health.queue.stale_dispatching).toBe(4);
    expect(health.problems.map((p) => p.code)).toContain("STALE_DISPATCHING");

    const pass = await api.service.dispatch.reconcileStale({});
    expect(pass.task_ids.sort()).toEqual([timedOut, lostWorker, neverBeat, claimLost].sort());
    expect((await api.service.tasks.get({ id: timedOut })).blocked_reason).toMatch(/^stale dispatch:/);
    expect((await api.service.tasks.get({ id: lostWorker })).blocked_reason).toMatch(/^worker w-lost lost:/);
    expect((await api.service.tasks.get({ id: claimLost })).blocked_reason).toMatch(/^claim lost:/);

    const after = await api.service.dispatch.health({});
    expect(after.queue.stale_dispatching).toBe(0);
    expect(after.dispatching.map((d) => d.task_id).sort()).toEqual([running, justClaimed].sort());
  });
});

import { type Contract, IN_FLIGHT_STATUSES, type ProcedureInput } from "@ops/contract";
import { type Db, literalList, queryRows, workerHeartbeats } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { notFound } from "../errors.ts";
import { readDispatchSettings } from "../domain/settings.ts";

export type HeartbeatInput = ProcedureInput<Contract["dispatch"]["heartbeat"]>;

/**
 * Upserts the worker's row and tells it which of the tasks it runs it no
 * longer holds (cancelled, recovered by the watchdog, re-claimed elsewhere), so
 * it stops those agents instead of running a task twice.
 */
export async function recordHeartbeat(db: Db, input: HeartbeatInput) {
  const row = {
    hostname: input.hostname,
    pid: input.pid,
    version: input.version,
    agentSlugs: input.agent_slugs,
    models: input.models,
    runningTaskIds: input.running_task_ids,
    freeSlots: input.free_slots,
    cliVersions: input.cli_versions,
    lastSeenAt: new Date(),
  };
  await db
    .insert(workerHeartbeats)
    .values({ workerId: input.worker_id, ...row })
    .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: row });
  let stop: number[] = [];
  if (input.running_task_ids.length > 0) {
    const ids = input.running_task_ids.map(Number);
    const held = await queryRows<{ id: number }>(
      db,
      sql`select id from tasks where id in ${sql.raw(`(${ids.join(",")})`)}
          and claimed_by = ${input.worker_id} and status in ${literalList(IN_FLIGHT_STATUSES)} and cancel_requested_at is null`,
    );
    const heldIds = new Set(held.map((h) => Number(h.id)));
    stop = ids.filter((id) => !heldIds.has(id));
  }
  const settings = await readDispatchSettings(db);
  return { ok: true as const, worker_stale_seconds: settings.workerStaleSeconds, stop_task_ids: stop };
}

export async function removeWorker(db: Db, workerId: string, actor: string, ip: string | null): Promise<void> {
  const removed = await db.delete(workerHeartbeats).where(eq(workerHeartbeats.workerId, workerId)).returning({ id: workerHeartbeats.workerId });
  if (removed.length === 0) throw notFound(`worker ${workerId}`);
  await audit(db, { actor, action: "dispatch.worker_removed", targetType: "worker", targetId: workerId, ip });
}


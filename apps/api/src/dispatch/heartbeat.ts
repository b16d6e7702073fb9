import { type Contract, IN_FLIGHT_STATUSES, isStatusIn, type ProcedureInput, type TStopTask, type TTaskStatus } from "@ops/contract";
import { type Db, queryRows, workerHeartbeats } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { notFound } from "../errors.ts";
import { readDispatchSettings } from "../domain/settings.ts";

export type HeartbeatInput = ProcedureInput<Contract["dispatch"]["heartbeat"]>;

/** How the heartbeat authenticated, and the pool it serves (null: the whole instance). */
export interface HeartbeatCredential {
  kind: "service" | "worker_token";
  pool: readonly number[] | null;
}

/**
 * Upserts the worker's row and tells it which of the tasks it runs it no
 * longer holds (cancelled, recovered by the watchdog, re-claimed elsewhere), and
 * why, so it stops those agents instead of running a task twice.
 */
export async function recordHeartbeat(db: Db, input: HeartbeatInput, credential: HeartbeatCredential) {
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
    credentialKind: credential.kind,
    poolWorkspaceIds: credential.pool === null ? null : [...credential.pool],
  };
  await db
    .insert(workerHeartbeats)
    .values({ workerId: input.worker_id, ...row })
    .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: row });
  const stop = input.running_task_ids.length > 0 ? await tasksToStop(db, input.worker_id, input.running_task_ids, credential.pool) : [];
  const settings = await readDispatchSettings(db);
  return { ok: true as const, worker_stale_seconds: settings.workerStaleSeconds, stop_task_ids: stop.map((s) => s.id), stop_tasks: stop };
}

/**
 * The listed tasks this worker no longer holds, each with why. A task outside
 * a worker token's pool (or gone) gets no detail: the worker learns nothing of
 * other workspaces' tasks.
 */
async function tasksToStop(db: Db, workerId: string, running: readonly number[], pool: readonly number[] | null): Promise<TStopTask[]> {
  const ids = running.map(Number);
  const rows = await queryRows<{ id: number; workspace_id: number; status: TTaskStatus; claimed_by: string | null; cancel_requested_at: unknown }>(
    db,
    sql`select id, workspace_id, status, claimed_by, cancel_requested_at from tasks where id in ${sql.raw(`(${ids.join(",")})`)}`,
  );
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const stop: TStopTask[] = [];
  for (const id of ids) {
    const task = byId.get(id);
    const visible = task !== undefined && (pool === null || pool.includes(Number(task.workspace_id)));
    const held = visible && task.claimed_by === workerId && isStatusIn(IN_FLIGHT_STATUSES, task.status);
    if (held && !task.cancel_requested_at) continue;
    if (held) stop.push({ id, code: "cancelled", reason: "cancelled by operator" });
    else if (visible) stop.push({ id, code: "not_held", reason: `task no longer held by this worker (now ${task.status}, held by ${task.claimed_by ?? "nobody"})` });
    else stop.push({ id, code: "not_held", reason: "task no longer held by this worker" });
  }
  return stop;
}

export async function removeWorker(db: Db, workerId: string, actor: string, ip: string | null): Promise<void> {
  const removed = await db.delete(workerHeartbeats).where(eq(workerHeartbeats.workerId, workerId)).returning({ id: workerHeartbeats.workerId });
  if (removed.length === 0) throw notFound(`worker ${workerId}`);
  await audit(db, { actor, action: "dispatch.worker_removed", targetType: "worker", targetId: workerId, ip });
}


import type { Contract, ProcedureInput } from "@ops/contract";
import { type Db, workerHeartbeats } from "@ops/db";
import { eq } from "drizzle-orm";
import { audit } from "../audit.ts";
import { notFound } from "../errors.ts";
import { readDispatchSettings } from "../domain/settings.ts";
import { tasksToStop } from "./stops.ts";

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
    runtimes: input.runtimes,
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

export async function removeWorker(db: Db, workerId: string, actor: string, ip: string | null): Promise<void> {
  const removed = await db.delete(workerHeartbeats).where(eq(workerHeartbeats.workerId, workerId)).returning({ id: workerHeartbeats.workerId });
  if (removed.length === 0) throw notFound(`worker ${workerId}`);
  await audit(db, { actor, action: "dispatch.worker_removed", targetType: "worker", targetId: workerId, ip });
}


import type { Contract, ProcedureInput } from "@ops/contract";
import { type Db, workerHeartbeats } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { audit } from "../audit.ts";
import { notFound } from "../errors.ts";
import type { SettingsCache } from "../domain/settings-cache.ts";
import { tasksToStop } from "./stops.ts";

export type HeartbeatInput = ProcedureInput<Contract["dispatch"]["heartbeat"]>;

/** How the heartbeat authenticated, and the pool it serves (null: the whole instance). */
export interface HeartbeatCredential {
  kind: "service" | "worker_token";
  pool: readonly number[] | null;
}

/**
 * Records the worker's heartbeat and tells it which of the tasks it runs it no
 * longer holds (cancelled, recovered by the watchdog, re-claimed elsewhere), and
 * why, so it stops those agents instead of running a task twice. An idle worker
 * (no running tasks) whose heartbeat only says "still here" costs no statement
 * of its own: the buffer writes it with the others (HeartbeatBuffer), and the
 * settings come from the instance's cache.
 */
export async function recordHeartbeat(
  db: Db,
  heartbeats: HeartbeatBuffer,
  settings: SettingsCache,
  input: HeartbeatInput,
  credential: HeartbeatCredential,
) {
  await heartbeats.record(input.worker_id, {
    hostname: input.hostname,
    pid: input.pid,
    version: input.version,
    agentSlugs: input.agent_slugs,
    models: input.models,
    runningTaskIds: input.running_task_ids,
    freeSlots: input.free_slots,
    cliVersions: input.cli_versions,
    runtimes: input.runtimes,
    credentialKind: credential.kind,
    poolWorkspaceIds: credential.pool === null ? null : [...credential.pool],
  });
  // Read at every heartbeat that reports running tasks (a cancel reaches the launcher at its next heartbeat, or at once through dispatch/stops).
  const stop = input.running_task_ids.length > 0 ? await tasksToStop(db, input.worker_id, input.running_task_ids, credential.pool) : [];
  const { workerStaleSeconds } = await settings.get();
  return { ok: true as const, worker_stale_seconds: workerStaleSeconds, stop_task_ids: stop.map((s) => s.id), stop_tasks: stop };
}

type HeartbeatRow = Omit<typeof workerHeartbeats.$inferInsert, "workerId" | "lastSeenAt" | "startedAt">;

/**
 * Heartbeats, coalesced per API instance. Liveness is judged at
 * dispatch_worker_stale_seconds (90 s), so writing each heartbeat as its own
 * transaction (a fleet of 5,000 at one per 15 s: 333 a second) bought nothing.
 *
 * - A heartbeat that changes what the row says — the first from a worker on
 *   this instance, new slugs, models, running tasks, free slots, runtimes,
 *   credential or pool — is written at once, as before: health, the claim's
 *   pool and the watchdog see the change immediately, and a new launcher is
 *   registered before its first claim.
 * - A heartbeat that only says "still here" is kept in memory and written with
 *   all the others in ONE statement every `intervalMs` (1 s by default,
 *   OPS_HEARTBEAT_FLUSH_MS; 0 writes every heartbeat at once). That statement
 *   only moves last_seen_at forward (never back), or re-creates a row someone
 *   deleted. So a worker's last_seen_at lags by at most the interval, on every
 *   instance, far inside the 90 s threshold.
 * - Pending heartbeats are written on shutdown (main.ts).
 */
export class HeartbeatBuffer {
  private readonly pending = new Map<string, { row: HeartbeatRow; at: Date }>();
  /** What this instance last wrote for each worker, so an unchanged heartbeat can wait. */
  private readonly written = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly db: Db,
    private readonly log: Logger,
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (this.intervalMs <= 0) return;
    this.timer = setInterval(() => void this.flush().catch((err: unknown) => this.log.warn({ err }, "heartbeat flush failed")), this.intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.flush();
  }

  /** Heartbeats waiting for the next flush. */
  get size(): number {
    return this.pending.size;
  }

  async record(workerId: string, row: HeartbeatRow): Promise<void> {
    const at = new Date();
    const signature = JSON.stringify(row);
    if (this.intervalMs > 0 && this.written.get(workerId) === signature) {
      this.pending.set(workerId, { row, at });
      return;
    }
    const values = { ...row, lastSeenAt: at };
    await this.db
      .insert(workerHeartbeats)
      .values({ workerId, ...values })
      .onConflictDoUpdate({ target: workerHeartbeats.workerId, set: values });
    this.written.set(workerId, signature);
    // This write is newer than anything pending for the worker.
    const queued = this.pending.get(workerId);
    if (queued && queued.at <= at) this.pending.delete(workerId);
  }

  /** The worker row was removed: nothing pending may bring it back from this instance. */
  forget(workerId: string): void {
    this.pending.delete(workerId);
    this.written.delete(workerId);
  }

  /** Writes every pending heartbeat in one statement. */
  async flush(): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = [...this.pending.entries()];
    this.pending.clear();
    const rows = batch.map(([workerId, { row, at }]) => ({
      worker_id: workerId,
      hostname: row.hostname,
      pid: row.pid,
      version: row.version,
      agent_slugs: row.agentSlugs,
      models: row.models,
      running_task_ids: row.runningTaskIds,
      free_slots: row.freeSlots,
      cli_versions: row.cliVersions ?? {},
      runtimes: row.runtimes ?? [],
      last_seen_at: at.toISOString(),
      credential_kind: row.credentialKind ?? "service",
      pool_workspace_ids: row.poolWorkspaceIds ?? null,
    }));
    const write = (async () => {
      try {
        await this.db.execute(sql`insert into worker_heartbeats (worker_id, hostname, pid, version, agent_slugs, models, running_task_ids,
              free_slots, cli_versions, runtimes, last_seen_at, credential_kind, pool_workspace_ids)
            select * from jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) as x(worker_id text, hostname text, pid int, version text,
              agent_slugs text[], models text[], running_task_ids int[], free_slots int, cli_versions jsonb, runtimes jsonb,
              last_seen_at timestamptz, credential_kind text, pool_workspace_ids int[])
            on conflict (worker_id) do update set last_seen_at = greatest(worker_heartbeats.last_seen_at, excluded.last_seen_at)`);
      } catch (err) {
        // Kept for the next flush unless a newer heartbeat replaced it meanwhile.
        for (const [workerId, entry] of batch) if (!this.pending.has(workerId)) this.pending.set(workerId, entry);
        throw err;
      }
    })();
    this.flushing = write.finally(() => {
      this.flushing = undefined;
    }).catch(() => {});
    await write;
  }
}

export async function removeWorker(db: Db, workerId: string, actor: string, ip: string | null): Promise<void> {
  const removed = await db.delete(workerHeartbeats).where(eq(workerHeartbeats.workerId, workerId)).returning({ id: workerHeartbeats.workerId });
  if (removed.length === 0) throw notFound(`worker ${workerId}`);
  await audit(db, { actor, action: "dispatch.worker_removed", targetType: "worker", targetId: workerId, ip });
}


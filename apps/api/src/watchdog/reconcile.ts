import { type Db, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { blockAfterFailure } from "../domain/dispatch-failure.ts";
import { type DispatchSettings, readDispatchSettings } from "../domain/settings.ts";
import { loadTask } from "../domain/task-rows.ts";
import { staleCriteria } from "./stale.ts";

export interface WatchdogOptions {
  staleMinutes: number;
  workerStaleSeconds: number;
  failureAlertThreshold: number;
  actor: string;
  manual: boolean;
  ip?: string | null;
  /** Only these tasks (a targeted manual pass). */
  taskIds?: readonly number[] | undefined;
}

function staleReason(row: { by_minutes: boolean; worker_lost: boolean }, task: { status: string }, worker: string, options: WatchdogOptions) {
  if (row.by_minutes) return `stale dispatch: in dispatching for more than ${options.staleMinutes} min (worker ${worker})`;
  if (row.worker_lost) {
    return `worker ${worker} lost: no heartbeat for more than ${options.workerStaleSeconds}s while the task was ${task.status}`;
  }
  return `claim lost: worker ${worker} is alive but has not reported the task running for ${options.workerStaleSeconds}s after claiming it`;
}

/**
 * The stale watchdog pass. Safe to run on several API instances at once: each
 * stale task is locked (SKIP LOCKED) and re-checked under the lock, so it is
 * reconciled once — one blocker, one alert occurrence, one audit entry.
 */
export async function reconcileStaleDispatches(db: Db, options: WatchdogOptions): Promise<number[]> {
  const only = options.taskIds?.length ? sql.raw(` and t.id in (${options.taskIds.map(Number).join(",")})`) : sql``;
  const criteria = sql`${staleCriteria(options.staleMinutes, options.workerStaleSeconds)}${only}`;
  // Cheap read first: the common answer is "nothing stale", without a transaction.
  const candidates = await queryRows<{ id: number }>(
    db,
    sql`select t.id from tasks t left join worker_heartbeats w on w.worker_id = t.claimed_by
        where ${criteria} limit 500`,
  );
  if (candidates.length === 0) return [];
  const ids = candidates.map((c) => c.id);
  return db.transaction(async (tx) => {
    const locked = await queryRows<{ id: number; by_minutes: boolean; worker_lost: boolean; claimed_by: string | null }>(
      tx,
      sql`select t.id, (t.status = 'dispatching' and t.claimed_at < now() - make_interval(mins => ${options.staleMinutes})) as by_minutes,
                 (w.worker_id is null or w.last_seen_at < now() - make_interval(secs => ${options.workerStaleSeconds})) as worker_lost,
                 t.claimed_by
          from tasks t left join worker_heartbeats w on w.worker_id = t.claimed_by
          where t.id in ${sql.raw(`(${ids.map(Number).join(",")})`)} and ${criteria}
          order by t.id
          for update of t skip locked`,
    );
    for (const row of locked) {
      const task = await loadTask(tx, row.id);
      const worker = row.claimed_by ?? "unknown";
      const reason = staleReason(row, task, worker, options);
      await blockAfterFailure(tx, task, {
        reason,
        evidence: `Reconciled by the stale watchdog (${options.manual ? `manual, by ${options.actor}` : "automatic"}). Claimed at ${task.claimedAt?.toISOString() ?? "?"}, attempt ${task.claimAttempt}.`,
        source: "system",
        alertKind: "dispatch_stale",
        failureAlertThreshold: options.failureAlertThreshold,
      });
      await audit(tx, {
        actor: options.actor,
        action: "dispatch.reconciled_stale",
        targetType: "task",
        targetId: row.id,
        details: { reason, manual: options.manual, worker_id: row.claimed_by, attempt: task.claimAttempt },
        ip: options.ip ?? null,
      });
    }
    return locked.map((r) => r.id);
  });
}

/**
 * One watchdog pass with the thresholds in force: before every claim, on the
 * API's timer, and on demand (POST /dispatch/reconcile-stale, which may pass
 * its own minutes and a task list).
 */
export async function runWatchdogPass(
  db: Db,
  pass: { actor: string; manual: boolean; ip?: string | null; staleMinutes?: number | undefined; taskIds?: readonly number[] | undefined },
  settings?: DispatchSettings,
): Promise<{ staleMinutes: number; taskIds: number[] }> {
  const s = settings ?? (await readDispatchSettings(db));
  const staleMinutes = pass.staleMinutes ?? s.staleMinutes;
  const taskIds = await reconcileStaleDispatches(db, {
    staleMinutes,
    workerStaleSeconds: s.workerStaleSeconds,
    failureAlertThreshold: s.failureAlertThreshold,
    actor: pass.actor,
    manual: pass.manual,
    ip: pass.ip ?? null,
    taskIds: pass.taskIds,
  });
  return { staleMinutes, taskIds };
}

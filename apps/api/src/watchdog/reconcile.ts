import type { TStaleReason } from "@ops/contract";
import { type Db, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { blockAfterFailure } from "../domain/dispatch-failure.ts";
import { type DispatchSettings, readDispatchSettings } from "../domain/settings.ts";
import { staleCriteria, staleMessage, staleReasonSql, TASKS_WITH_WORKER } from "./stale.ts";

export interface WatchdogOptions {
  staleMinutes: number;
  workerStaleSeconds: number;
  failureAlertThreshold: number;
  actor: string;
  manual: boolean;
  ip?: string | null;
  /** Only these tasks (a targeted manual pass). */
  taskIds?: readonly number[] | undefined;
  /** Only tasks of these workspaces (a workspace admin's manual pass); undefined: all. */
  workspaceIds?: readonly number[] | undefined;
}

/** `column in (ids)`, or false for no ids; the ids are numbers the API produced. */
const idListIn = (column: string, ids: readonly number[]) => (ids.length ? `${column} in (${ids.map(Number).join(",")})` : "false");

/**
 * The stale watchdog pass. Safe to run on several API instances at once: each
 * stale task is locked (SKIP LOCKED) and re-checked under the lock, so it is
 * reconciled once — one blocker, one alert occurrence, one audit entry.
 */
export async function reconcileStaleDispatches(db: Db, options: WatchdogOptions): Promise<number[]> {
  const only = options.taskIds?.length ? sql.raw(` and t.id in (${options.taskIds.map(Number).join(",")})`) : sql``;
  const scope = options.workspaceIds ? sql.raw(` and ${idListIn("t.workspace_id", options.workspaceIds)}`) : sql``;
  const criteria = sql`${staleCriteria(options)}${only}${scope}`;
  // Cheap read first: the common answer is "nothing stale", without a transaction.
  const candidates = await queryRows<{ id: number }>(db, sql`select t.id from ${TASKS_WITH_WORKER} where ${criteria} limit 500`);
  if (candidates.length === 0) return [];
  const ids = candidates.map((c) => c.id);
  return db.transaction(async (tx) => {
    const locked = await queryRows<{
      id: number;
      reason: TStaleReason;
      status: string;
      claimed_by: string | null;
      claimed_at: Date | string | null;
      claim_attempt: number;
    }>(
      tx,
      sql`select t.id, ${staleReasonSql(options)} as reason, t.status, t.claimed_by, t.claimed_at, t.claim_attempt
          from ${TASKS_WITH_WORKER}
          where t.id in ${sql.raw(`(${ids.map(Number).join(",")})`)} and ${criteria}
          order by t.id
          for update of t skip locked`,
    );
    for (const row of locked) {
      const reason = staleMessage(row.reason, { status: row.status, worker: row.claimed_by ?? "unknown" }, options);
      const claimedAt = row.claimed_at === null ? "?" : new Date(row.claimed_at).toISOString();
      await blockAfterFailure(tx, sql`tasks.id = ${row.id}`, {
        reason,
        evidence: `Reconciled by the stale watchdog (${options.manual ? `manual, by ${options.actor}` : "automatic"}). Claimed at ${claimedAt}, attempt ${row.claim_attempt}.`,
        source: "system",
        actor: options.actor,
        alertKind: "dispatch_stale",
        failureAlertThreshold: options.failureAlertThreshold,
      });
      await audit(tx, {
        actor: options.actor,
        action: "dispatch.reconciled_stale",
        targetType: "task",
        targetId: row.id,
        details: { reason, manual: options.manual, worker_id: row.claimed_by, attempt: Number(row.claim_attempt) },
        ip: options.ip ?? null,
      });
    }
    return locked.map((r) => Number(r.id));
  });
}

/**
 * One watchdog pass with the thresholds in force: by dispatch/next whenever
 * its claim statement sees stale work, on the API's timer, and on demand
 * (POST /dispatch/reconcile-stale, which may pass its own minutes and a task list).
 */
export async function runWatchdogPass(
  db: Db,
  pass: {
    actor: string;
    manual: boolean;
    ip?: string | null;
    staleMinutes?: number | undefined;
    taskIds?: readonly number[] | undefined;
    workspaceIds?: readonly number[] | undefined;
  },
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
    workspaceIds: pass.workspaceIds,
  });
  return { staleMinutes, taskIds };
}

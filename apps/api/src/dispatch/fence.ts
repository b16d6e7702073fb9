import type { TClaimFence, TTaskStatus } from "@ops/contract";
import { type DbOrTx, literalList } from "@ops/db";
import { type SQL, sql } from "drizzle-orm";
import { findTask } from "../domain/task-rows.ts";
import { notFound, OpsError } from "../errors.ts";

// Every launcher report (started, failed, finished) is fenced the same way:
// its UPDATE only matches while this worker still holds this claim attempt
// and the task is in flight (and, for a worker token, in its pool),
// re-checked under the row lock, in the statement that changes the task. A
// report that matched nothing is refused here.

/** The workspaces a reporting worker serves; null: the whole instance. */
export type Pool = readonly number[] | null;

/** `tasks.workspace_id` within the pool, as SQL (ids are the API's own numbers, inlined for one plan per pool). */
export function poolSql(column: string, pool: Pool): SQL {
  if (pool === null) return sql`true`;
  return sql.raw(pool.length ? `${column} in (${pool.map(Number).join(",")})` : "false");
}

/** The WHERE of a report's UPDATE of `tasks`. */
export function fenceSql(fence: TClaimFence, statuses: readonly TTaskStatus[], pool: Pool = null): SQL {
  return sql`tasks.id = ${fence.id} and tasks.claimed_by = ${fence.worker_id} and tasks.claim_attempt = ${fence.attempt}
    and tasks.status in ${literalList(statuses)} and ${poolSql("tasks.workspace_id", pool)}`;
}

/**
 * A report whose fence matched nothing: 404 when the task does not exist (or,
 * for a worker token, is outside its pool: it learns nothing of it),
 * STALE_CLAIM otherwise (the watchdog, a cancel or another worker got there
 * first). Nothing was changed.
 */
export async function refuseReport(db: DbOrTx, fence: TClaimFence, pool: Pool = null): Promise<never> {
  const task = await findTask(db, fence.id);
  if (!task || (pool !== null && !pool.includes(task.workspaceId))) throw notFound(`task ${fence.id}`);
  throw new OpsError(
    "STALE_CLAIM",
    `worker ${fence.worker_id} no longer holds attempt ${fence.attempt} of task ${fence.id} (now ${task.status}, attempt ${task.claimAttempt}, held by ${task.claimedBy ?? "nobody"})`,
  );
}

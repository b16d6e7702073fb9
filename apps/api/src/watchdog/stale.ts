import { IN_FLIGHT_STATUSES, type TStaleReason } from "@ops/contract";
import { literalList } from "@ops/db";
import { type SQL, sql } from "drizzle-orm";

// What "stale" means, once: the watchdog reconciles exactly what these
// expressions select, health counts and lists the same (with the reason), and
// the claim statement uses them to flag that a watchdog pass is due. The
// reason codes and their meaning in words are the contract's STALE_REASONS.

/** The thresholds, as numbers (from the settings) or SQL (read inside a statement). */
export interface StaleThresholds {
  staleMinutes: number | SQL;
  workerStaleSeconds: number | SQL;
}

/** The tasks stale queries read: `t`, each with its worker's heartbeat row `w` (if any). */
export const TASKS_WITH_WORKER = sql`tasks t left join worker_heartbeats w on w.worker_id = t.claimed_by`;

/**
 * Why in-flight task `t` is stale, or null: dispatching longer than the stale
 * minutes (runbook 3.1); held by a worker whose heartbeat is older than the
 * worker stale threshold, or that never sent one (a crashed host should not
 * hold work for 20 minutes); or held by a live worker that keeps heartbeating
 * without listing the task as running — a claim whose answer never reached it
 * (the API died mid-request).
 */
export function staleReasonSql({ staleMinutes, workerStaleSeconds }: StaleThresholds): SQL {
  const grace = sql`make_interval(secs => ${workerStaleSeconds})`;
  return sql`case
      when t.status = 'dispatching' and t.claimed_at < now() - make_interval(mins => ${staleMinutes}) then ${reason("stale_dispatch")}
      when (w.worker_id is not null and w.last_seen_at < now() - ${grace})
        or (w.worker_id is null and t.claimed_at < now() - ${grace}) then ${reason("worker_lost")}
      when w.worker_id is not null and w.last_seen_at > t.claimed_at + ${grace}
        and not (t.id = any(w.running_task_ids)) then ${reason("claim_lost")}
    end`;
}

/** In flight and stale: the WHERE of every stale query over TASKS_WITH_WORKER. */
export function staleCriteria(thresholds: StaleThresholds): SQL {
  return sql`t.status in ${literalList(IN_FLIGHT_STATUSES)} and (${staleReasonSql(thresholds)}) is not null`;
}

const reason = (code: TStaleReason) => sql.raw(`'${code}'`);

/** The blocked reason the watchdog writes on a task it takes back. */
export function staleMessage(
  code: TStaleReason,
  task: { status: string; worker: string },
  thresholds: { staleMinutes: number; workerStaleSeconds: number },
): string {
  switch (code) {
    case "stale_dispatch":
      return `stale dispatch: in dispatching for more than ${thresholds.staleMinutes} min (worker ${task.worker})`;
    case "worker_lost":
      return `worker ${task.worker} lost: no heartbeat for more than ${thresholds.workerStaleSeconds}s while the task was ${task.status}`;
    case "claim_lost":
      return `claim lost: worker ${task.worker} is alive but has not reported the task running for ${thresholds.workerStaleSeconds}s after claiming it`;
  }
}

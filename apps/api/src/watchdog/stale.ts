import { type SQL, sql } from "drizzle-orm";

/**
 * Which in-flight tasks are stale: dispatching longer than the stale minutes
 * (runbook 3.1); held by a worker whose heartbeat is older than the worker
 * stale threshold (a crashed host should not hold work for 20 minutes); or
 * held by a live worker that keeps heartbeating without listing the task as
 * running — a claim whose answer never reached it (the API died mid-request).
 */
export function staleCriteria(staleMinutes: number | SQL, workerStaleSeconds: number | SQL): SQL {
  const grace = sql`make_interval(secs => ${workerStaleSeconds})`;
  return sql`t.status in ('dispatching', 'doing') and (
      (t.status = 'dispatching' and t.claimed_at < now() - make_interval(mins => ${staleMinutes}))
      or (w.worker_id is not null and w.last_seen_at < now() - ${grace})
      or (w.worker_id is null and t.claimed_at < now() - ${grace})
      or (w.worker_id is not null and w.last_seen_at > t.claimed_at + ${grace} and not (t.id = any(w.running_task_ids))))`;
}

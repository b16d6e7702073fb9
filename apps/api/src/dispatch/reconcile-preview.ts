import type { TReconcileCandidate, TStaleReason } from "@ops/contract";
import { type Db, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import { readDispatchSettings } from "../domain/settings.ts";
import { staleCriteria, staleReasonSql, TASKS_WITH_WORKER } from "../watchdog/stale.ts";
import { visibleWorkspaces } from "./health.ts";

/**
 * What a manual watchdog pass with these minutes would take back, read with
 * the watchdog's own criteria and changing nothing: the app shows it and the
 * operator confirms exactly these tasks (reconcileStale with their ids), so a
 * click never takes back work nobody saw. Tasks of workspaces the caller does
 * not belong to are not listed.
 */
export async function previewReconcile(db: Db, principal: Principal, minutes: number | undefined) {
  const settings = await readDispatchSettings(db);
  const thresholds = { staleMinutes: minutes ?? settings.staleMinutes, workerStaleSeconds: settings.workerStaleSeconds };
  const rows = await queryRows<{
    id: number;
    title: string;
    status: TReconcileCandidate["status"];
    slug: string | null;
    claimed_by: string | null;
    claimed_at: Date | string | null;
    age_seconds: number;
    worker_fresh: boolean;
    reason: TStaleReason;
  }>(
    db,
    sql`select t.id, t.title, t.status, a.slug, t.claimed_by, t.claimed_at,
               extract(epoch from (now() - t.claimed_at))::float8 as age_seconds,
               coalesce(w.last_seen_at > now() - make_interval(secs => ${thresholds.workerStaleSeconds}), false) as worker_fresh,
               ${staleReasonSql(thresholds)} as reason
        from ${TASKS_WITH_WORKER} left join agents a on a.id = t.agent_id
        where ${staleCriteria(thresholds)} and ${visibleWorkspaces(principal)}
        order by t.claimed_at limit 500`,
  );
  return {
    stale_minutes: thresholds.staleMinutes,
    tasks: rows.map((r) => ({
      task_id: Number(r.id),
      title: r.title,
      status: r.status,
      agent_slug: r.slug,
      claimed_by: r.claimed_by,
      claimed_at: r.claimed_at ? new Date(r.claimed_at).toISOString() : null,
      age_seconds: Math.round(Number(r.age_seconds ?? 0)),
      worker_fresh: Boolean(r.worker_fresh),
      reason: r.reason,
    })),
  };
}

import type { TProblem, TWorkspaceDispatch } from "@ops/contract";
import { type Db, queryRows } from "@ops/db";
import { type SQL, sql } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import { type DispatchSettings, readDispatchSettings } from "../domain/settings.ts";

// Worker pools as health, the dispatch explanation and the app show them:
// which workspaces fresh workers serve, and which launchers still carry the
// service token. Counted in SQL, so the figures stay exact however many
// workers and workspaces there are.

/** Fresh heartbeat rows, `f`. */
const freshWorkers = (workerStaleSeconds: number) =>
  sql`(select * from worker_heartbeats where last_seen_at >= now() - make_interval(secs => ${workerStaleSeconds}))`;

/** Whether fresh worker `f` serves workspace `ws.id`. */
const serves = sql`(f.pool_workspace_ids is null or ws.id = any(f.pool_workspace_ids))`;

const MAX_LISTED = 10;
/** Workers a problem names before it says "and N more". */
const LISTED_WORKERS = 5;
const count = (n: number) => n.toLocaleString("en-US");

/** Health problems of the pools: launchers on the service token, and workspaces no fresh worker serves. */
export async function poolProblems(db: Db, settings: DispatchSettings): Promise<TProblem[]> {
  const problems: TProblem[] = [];
  const [service] = await queryRows<{ n: number; ids: string[] | null }>(
    db,
    sql`select count(*)::int as n, (array_agg(worker_id order by worker_id))[1:${LISTED_WORKERS}] as ids
        from ${freshWorkers(settings.workerStaleSeconds)} f where f.credential_kind = 'service'`,
  );
  const n = Number(service?.n ?? 0);
  if (n === 1) {
    const id = service!.ids![0]!;
    problems.push({ code: "WORKER_USES_SERVICE_TOKEN", message: `launcher ${id} uses the service token; issue it a worker token`, params: { workers: id, count: 1 }, severity: "warning" });
  } else if (n > 1) {
    // A few names and the exact count: a fleet on the service token is one line, not thousands (issue 12).
    const ids = service!.ids!.join(", ");
    const more = n - service!.ids!.length;
    problems.push({
      code: "WORKER_USES_SERVICE_TOKEN",
      message: `${count(n)} launchers use the service token (${ids}${more > 0 ? `, and ${count(more)} more` : ""}); issue each a worker token`,
      params: { workers: ids, count: n, ...(more > 0 ? { more } : {}) },
      severity: "warning",
    });
  }
  if (!settings.dispatchEnabled) return problems;
  // With no fresh worker at all, NO_FRESH_WORKER says it already.
  const unserved = await queryRows<{ id: number; queued: number }>(
    db,
    sql`select ws.id, (select count(*)::int from tasks t where t.workspace_id = ws.id and t.status = 'queued' and t.archived_at is null) as queued
        from workspaces ws
        where ws.dispatch_enabled
          and exists (select 1 from ${freshWorkers(settings.workerStaleSeconds)} f)
          and exists (select 1 from agents a where a.workspace_id = ws.id and a.active)
          and not exists (select 1 from ${freshWorkers(settings.workerStaleSeconds)} f where ${serves})
        order by ws.id limit ${MAX_LISTED}`,
  );
  for (const ws of unserved) {
    const queued = Number(ws.queued);
    problems.push({
      code: "NO_WORKER_FOR_WORKSPACE",
      message: `no fresh worker serves workspace ${ws.id}${queued ? ` (${queued} task(s) queued)` : ""}; add it to a worker's pool or issue a worker token for it`,
      params: { workspace_id: Number(ws.id), queued },
    });
  }
  return problems;
}

/** The workspaces a caller sees: its memberships, or all of them for instance admins and the service token. */
function visible(principal: Principal): SQL {
  if (principal.kind === "service" || (principal.kind === "user" && principal.isInstanceAdmin)) return sql`true`;
  if (principal.kind !== "user") return sql`false`;
  const ids = [...principal.roles.keys()].map(Number);
  return ids.length ? sql.raw(`ws.id in (${ids.join(",")})`) : sql`false`;
}

/** GET /dispatch/workspaces: each visible workspace's switch, the fresh workers serving it and its queue. */
export async function listWorkspaceDispatch(db: Db, principal: Principal, onlyId?: number): Promise<TWorkspaceDispatch[]> {
  const { workerStaleSeconds } = await readDispatchSettings(db);
  const rows = await queryRows<{ id: number; name: string; dispatch_enabled: boolean; fresh_workers: number; queued: number }>(
    db,
    sql`select ws.id, ws.name, ws.dispatch_enabled,
               (select count(*)::int from ${freshWorkers(workerStaleSeconds)} f where ${serves}) as fresh_workers,
               (select count(*)::int from tasks t where t.workspace_id = ws.id and t.status = 'queued' and t.archived_at is null) as queued
        from workspaces ws where ${visible(principal)} ${onlyId === undefined ? sql`` : sql`and ws.id = ${onlyId}`}
        order by ws.id`,
  );
  return rows.map((r) => ({
    workspace_id: Number(r.id),
    name: r.name,
    dispatch_enabled: Boolean(r.dispatch_enabled),
    fresh_workers: Number(r.fresh_workers),
    queued: Number(r.queued),
  }));
}

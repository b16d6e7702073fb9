import {
  AGENT_COVERAGE_SAMPLE,
  IN_FLIGHT_STATUSES,
  type TProblem,
  type TRuntimeState,
  type TStaleReason,
  type TWorkerPage,
  WORKERS_PAGE,
} from "@ops/contract";
import { type Db, literalList, queryRows, workerHeartbeats } from "@ops/db";
import { and, asc, gt, type SQL, sql } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import { generatedCredentials } from "../auth/bootstrap.ts";
import { storedPlaceholderCredentials } from "../auth/stored-credentials.ts";
import { readDispatchSettings } from "../domain/settings.ts";
import type { TrustProxy } from "../env.ts";
import { staleCriteria, staleReasonSql, TASKS_WITH_WORKER } from "../watchdog/stale.ts";
import { poolProblems } from "./pools.ts";

/**
 * TRUST_PROXY=true (accepted as the runbook writes it) believes every
 * X-Forwarded-For hop, so a client chooses the address the audit log and the
 * sign-in limits see. A warning: the instance works, its perimeter does not.
 */
export const TRUST_PROXY_ALL_HOPS: TProblem = {
  code: "TRUST_PROXY_ALL_HOPS",
  message:
    "TRUST_PROXY=true trusts every X-Forwarded-For hop, so a client can choose the address the audit log and the sign-in limits see; set TRUST_PROXY to the proxy's address (127.0.0.1 when nginx runs on this host) or its hop count (1)",
  params: { recommended: "127.0.0.1" },
  severity: "warning",
};

// Counts are instance-wide (dispatch is one switch); task titles are shown
// only for workspaces the caller belongs to.
export function visibleWorkspaces(principal: Principal) {
  if (principal.kind !== "user" || principal.isInstanceAdmin) return sql`true`;
  const ids = [...principal.roles.keys()].map(Number);
  return ids.length ? sql.raw(`t.workspace_id in (${ids.join(",")})`) : sql`false`;
}

export type WorkerView = Awaited<ReturnType<typeof readWorkers>>[number];

/** Whether heartbeat row `worker_heartbeats` was seen within the stale threshold (the DB's clock, as the counts use). */
const isFresh = (workerStaleSeconds: number) =>
  sql<boolean>`(${workerHeartbeats.lastSeenAt} >= now() - make_interval(secs => ${workerStaleSeconds}))`;

export interface WorkerFilter {
  /** Only workers seen within (true) or not within (false) the stale threshold. */
  fresh?: boolean;
  /** Only workers that report this agent slug as usable. */
  agent?: string;
}

function filterSql(workerStaleSeconds: number, filter: WorkerFilter): SQL | undefined {
  return and(
    filter.fresh === undefined ? undefined : filter.fresh ? isFresh(workerStaleSeconds) : sql`not ${isFresh(workerStaleSeconds)}`,
    filter.agent === undefined ? undefined : sql`${filter.agent} = any(${workerHeartbeats.agentSlugs})`,
  );
}

/** Registered workers in id order with their freshness against the stale threshold. */
async function readWorkers(db: Db, workerStaleSeconds: number, where: SQL | undefined, limit?: number) {
  const query = db
    .select({
      w: workerHeartbeats,
      seconds: sql<number>`greatest(0, extract(epoch from (now() - ${workerHeartbeats.lastSeenAt})))::float8`,
      fresh: isFresh(workerStaleSeconds),
    })
    .from(workerHeartbeats)
    .where(where)
    .orderBy(asc(workerHeartbeats.workerId));
  const rows = limit === undefined ? await query : await query.limit(limit);
  return rows.map(({ w, seconds, fresh }) => ({
    worker_id: w.workerId,
    hostname: w.hostname,
    pid: w.pid,
    version: w.version,
    agent_slugs: w.agentSlugs,
    models: w.models,
    running_task_ids: w.runningTaskIds,
    free_slots: w.freeSlots,
    cli_versions: (w.cliVersions ?? {}) as Record<string, string>,
    runtimes: (w.runtimes ?? []) as TRuntimeState[],
    last_seen_at: w.lastSeenAt.toISOString(),
    seconds_since_seen: Math.round(Number(seconds)),
    fresh: Boolean(fresh),
    credential: w.credentialKind,
    workspace_ids: w.poolWorkspaceIds,
  }));
}

/** Every fresh worker (the dispatch explanation matches a task against them). */
export function listFreshWorkers(db: Db, workerStaleSeconds: number) {
  return readWorkers(db, workerStaleSeconds, filterSql(workerStaleSeconds, { fresh: true }));
}

/**
 * One page of workers, in id order after `cursor`, with the exact number of
 * workers the filter matches: what health and the Workers table show of a
 * fleet of any size (issue 12).
 */
export async function listWorkerPage(
  db: Db,
  workerStaleSeconds: number,
  page: { limit: number; cursor?: string | undefined } & WorkerFilter,
): Promise<TWorkerPage> {
  const filter = filterSql(workerStaleSeconds, page);
  const [count] = await db.select({ n: sql<number>`count(*)::int` }).from(workerHeartbeats).where(filter);
  const total = Number(count?.n ?? 0);
  if (page.limit === 0) return { workers: [], total, next_cursor: null };
  // One more than asked says whether a next page exists without a second count.
  const rows = await readWorkers(
    db,
    workerStaleSeconds,
    and(filter, page.cursor === undefined ? undefined : gt(workerHeartbeats.workerId, page.cursor)),
    page.limit + 1,
  );
  const workers = rows.slice(0, page.limit);
  return { workers, total, next_cursor: rows.length > page.limit ? workers[workers.length - 1]!.worker_id : null };
}

/** GET /dispatch/workers. */
export async function dispatchWorkers(db: Db, input: { limit?: number | undefined; cursor?: string | undefined; stale_only?: boolean | undefined; agent?: string | undefined }) {
  const { workerStaleSeconds } = await readDispatchSettings(db);
  return listWorkerPage(db, workerStaleSeconds, {
    limit: input.limit ?? WORKERS_PAGE.default,
    cursor: input.cursor,
    fresh: input.stale_only ? false : undefined,
    agent: input.agent,
  });
}

/** Exact worker counts, and per usable slug the fresh workers that run it (count and the first few ids). */
async function workerCounts(db: Db, workerStaleSeconds: number) {
  const [summary] = await queryRows<{ total: number; fresh: number }>(
    db,
    sql`select count(*)::int as total, (count(*) filter (where last_seen_at >= now() - make_interval(secs => ${workerStaleSeconds})))::int as fresh
        from worker_heartbeats`,
  );
  const coverage = await queryRows<{ slug: string; fresh_workers: number; workers: string[] }>(
    db,
    sql`select slug, count(*)::int as fresh_workers, (array_agg(f.worker_id order by f.worker_id))[1:${AGENT_COVERAGE_SAMPLE}] as workers
        from worker_heartbeats f cross join lateral unnest(f.agent_slugs) as slug
        where f.last_seen_at >= now() - make_interval(secs => ${workerStaleSeconds})
        group by slug order by slug`,
  );
  const total = Number(summary?.total ?? 0);
  const fresh = Number(summary?.fresh ?? 0);
  return {
    summary: { total, fresh, stale: total - fresh },
    coverage: coverage.map((c) => ({ slug: c.slug, fresh_workers: Number(c.fresh_workers), workers: c.workers ?? [] })),
  };
}

/** GET /dispatch/health: the runbook's fields plus every reason `ok` is false (and every warning), in words. */
export async function dispatchHealth(
  db: Db,
  principal: Principal,
  options: { workersLimit?: number | undefined; trustProxy?: TrustProxy } = {},
) {
  const settings = await readDispatchSettings(db);
  const { summary, coverage } = await workerCounts(db, settings.workerStaleSeconds);
  const page = await listWorkerPage(db, settings.workerStaleSeconds, { limit: options.workersLimit ?? WORKERS_PAGE.default });
  // Only in-flight, queued and blocked rows are read (partial indexes), so the
  // answer costs the same with a million finished tasks in history.
  const [counts] = await queryRows<{ queued: number; dispatching: number; doing: number; stale_dispatching: number; open_alerts: number }>(
    db,
    sql`select
          (select count(*)::int from tasks where status = 'queued' and archived_at is null) as queued,
          (select count(*)::int from tasks where status = 'dispatching') as dispatching,
          (select count(*)::int from tasks where status = 'doing') as doing,
          (select count(*)::int from ${TASKS_WITH_WORKER} where ${staleCriteria(settings)}) as stale_dispatching,
          (select count(*)::int from system_alerts where status = 'open') as open_alerts`,
  );
  const [blocked] = await queryRows<{ n: number }>(
    db,
    sql`select count(*)::int as n from tasks where blocked and status <> 'done' and archived_at is null`,
  );
  const dispatching = await queryRows<{
    id: number;
    title: string;
    status: "dispatching" | "doing";
    slug: string | null;
    claimed_by: string | null;
    claimed_at: Date | null;
    age_seconds: number;
    stale_reason: TStaleReason | null;
  }>(
    db,
    sql`select t.id, t.title, t.status, a.slug, t.claimed_by, t.claimed_at,
               extract(epoch from (now() - t.claimed_at))::float8 as age_seconds,
               ${staleReasonSql(settings)} as stale_reason
        from ${TASKS_WITH_WORKER} left join agents a on a.id = t.agent_id
        where t.status in ${literalList(IN_FLIGHT_STATUSES)} and ${visibleWorkspaces(principal)}
        order by t.claimed_at limit 200`,
  );
  const activeAgents = (
    await queryRows<{ slug: string }>(db, sql`select distinct slug from agents where active order by slug`)
  ).map((r) => r.slug);

  const covered = new Set(coverage.map((c) => c.slug));
  const problems: TProblem[] = [];
  const staleDispatching = Number(counts?.stale_dispatching ?? 0);
  if (settings.dispatchEnabled && summary.fresh === 0) {
    problems.push({
      code: "NO_FRESH_WORKER",
      message: `dispatch is enabled but no worker has sent a heartbeat in the last ${settings.workerStaleSeconds}s`,
      params: { seconds: settings.workerStaleSeconds },
    });
  }
  if (staleDispatching > 0) {
    problems.push({
      code: "STALE_DISPATCHING",
      message: `${staleDispatching} stale task(s) in flight (in dispatching for more than ${settings.staleMinutes} min, or held by a worker lost or that never got its claim); the watchdog recovers them on its next pass, or run it now (Reconciliar stale)`,
      params: { count: staleDispatching, minutes: settings.staleMinutes },
    });
  }
  if (settings.dispatchEnabled && summary.fresh > 0) {
    const uncovered = activeAgents.filter((slug) => !covered.has(slug));
    if (uncovered.length > 0) {
      problems.push({
        code: "AGENT_NOT_COVERED",
        message: `active agent(s) ${uncovered.join(", ")} are not usable on any fresh worker; deactivate them or fix the runtime (npm run worker:doctor)`,
        params: { agents: uncovered },
      });
    }
  }
  problems.push(...(await poolProblems(db, settings)));
  const generated = await generatedCredentials(db);
  if (generated.length > 0) {
    problems.push({
      code: "DEFAULT_CREDENTIALS",
      message: `generated ${generated.join(" and ")} credentials are in use; change the admin password (the app's first-run page, or OPS_ADMIN_USER/OPS_ADMIN_PASSWORD) and rotate the service token (OPS_SERVICE_TOKEN) before enabling dispatch`,
      params: { credentials: generated },
    });
  }
  const placeholders = await storedPlaceholderCredentials(db);
  if (placeholders.length > 0) {
    problems.push({
      code: "PLACEHOLDER_CREDENTIALS",
      message: `stored credentials are still a placeholder of deploy/env/*.example (${placeholders.join(", ")}); set OPS_SERVICE_TOKEN to a random token (openssl rand -hex 32) and change the admin password`,
      params: { credentials: placeholders },
    });
  }
  if (options.trustProxy === true) problems.push(TRUST_PROXY_ALL_HOPS);
  return {
    ok: problems.every((p) => p.severity === "warning"),
    dispatch_enabled: settings.dispatchEnabled,
    problems,
    worker_summary: summary,
    workers: page.workers,
    workers_total: summary.total,
    workers_next_cursor: page.next_cursor,
    agent_coverage: coverage,
    queue: {
      queued: Number(counts?.queued ?? 0),
      dispatching: Number(counts?.dispatching ?? 0),
      doing: Number(counts?.doing ?? 0),
      stale_dispatching: staleDispatching,
      blocked: Number(blocked?.n ?? 0),
    },
    dispatching: dispatching.map((d) => ({
      task_id: Number(d.id),
      title: d.title,
      status: d.status,
      agent_slug: d.slug,
      claimed_by: d.claimed_by,
      claimed_at: d.claimed_at ? new Date(d.claimed_at).toISOString() : null,
      age_seconds: Math.round(Number(d.age_seconds ?? 0)),
      stale: d.stale_reason !== null,
      stale_reason: d.stale_reason,
    })),
    open_alerts: Number(counts?.open_alerts ?? 0),
    thresholds: {
      dispatch_stale_minutes: settings.staleMinutes,
      dispatch_worker_stale_seconds: settings.workerStaleSeconds,
      dispatch_max_concurrent: settings.maxConcurrent,
    },
    active_agents: activeAgents,
    server_time: new Date().toISOString(),
  };
}

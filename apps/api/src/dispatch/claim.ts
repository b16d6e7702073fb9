import { defaultIntSetting, IN_FLIGHT_STATUSES, type SettingKey, type TNextResult } from "@ops/contract";
import {
  agents,
  type Db,
  type DbOrTx,
  jsonValue,
  literalList,
  queryPrepared,
  queryRows,
  rowMapper,
  taskContext,
} from "@ops/db";
import { type SQL, sql } from "drizzle-orm";
import { generateToken, hashToken } from "../auth/crypto.ts";
import { toAgentDto, toContextDto, toTaskDto } from "../domain/serialize.ts";
import { DISPATCH_KEYS, type DispatchSettings, parseDispatchSettings } from "../domain/settings.ts";
import { taskFromRaw } from "../domain/task-rows.ts";
import { staleCriteria, TASKS_WITH_WORKER } from "../watchdog/stale.ts";
import { poolSql } from "./fence.ts";
import { modelFilterSql } from "./model-match.ts";

export interface ClaimRequest {
  workerId: string;
  agentSlugs: readonly string[];
  models: readonly string[];
  /** The workspaces whose tasks the worker may claim (its token's pool); null: every workspace. */
  pool: readonly number[] | null;
}

export type Claimed = Extract<TNextResult, { claimed: true }>;

/** What the claim statement found besides the task it may have claimed. */
export interface ClaimAttempt {
  claimed: Claimed | undefined;
  /** dispatch_enabled as the statement read it. */
  enabled: boolean;
  /** A cap is configured: the statement claimed nothing, `claimUnderCaps` does. */
  capped: boolean;
  /** freshWorkerOnly and the caller's heartbeat is stale: nothing was claimed. */
  workerStale: boolean;
  /** Stale in-flight work exists: a watchdog pass is due (the caller runs it). */
  staleWork: boolean;
  settings: DispatchSettings;
}

// Cap checks read counts and then claim; the advisory lock makes that pair
// atomic across connections and API instances. Without caps, no lock is taken.
const CAPS_LOCK_KEY = 0x0d15a7c4;

const agentRow = rowMapper(agents);
const contextRow = rowMapper(taskContext);

/** A whole-number setting read in SQL, with parseDispatchSettings' fallback: the contract's default for a missing, zero or unreadable value. */
const intSetting = (key: SettingKey) =>
  sql`coalesce(nullif((select case when value ~ '^[0-9]{1,9}$' then value::int end from ops_settings where key = ${key}), 0), ${defaultIntSetting(key)}::int)`;

/**
 * The dispatch gate, the only one: the claim statement claims when dispatch
 * is on and no cap is configured; the code follows what it answered (claim
 * under caps, or say dispatch_disabled). Caps need the locked count first.
 */
const GATE = sql`(select coalesce(settings->>'dispatch_enabled', 'false') = 'true' as enabled,
      not (coalesce(settings->>'dispatch_max_concurrent', '0') in ('0', '')
           and coalesce(settings->>'dispatch_agent_caps', '{}') in ('{}', '')) as capped
    from cfg)`;

/**
 * The workspaces a claim may serve, fairest first: those of the worker's pool
 * whose own dispatch switch is on, the one with the fewest tasks in flight
 * first, then the one served longest ago. Priority orders tasks only within a
 * workspace, so a priority of 1000 in one workspace cannot starve the others.
 * A few rows (one per workspace), read from the in-flight and last-claim
 * indexes.
 */
const fairWorkspaces = (pool: readonly number[] | null) => sql`(
    select ws.id,
           coalesce(f.n, 0) as in_flight,
           (select max(l.claimed_at) from tasks l where l.workspace_id = ws.id and l.claimed_at is not null) as last_claim
    from workspaces ws
    left join (select workspace_id, count(*) as n from tasks where status in ${literalList(IN_FLIGHT_STATUSES)} group by workspace_id) f
      on f.workspace_id = ws.id
    where ws.dispatch_enabled and ${poolSql("ws.id", pool)}
    order by in_flight, last_claim nulls first, ws.id
  )`;

/**
 * The best queued task this worker can run, moved to dispatching in a single
 * statement (a CTE with FOR UPDATE SKIP LOCKED, so two workers never get the
 * same task). Workspaces are tried fairest first (fairWorkspaces); within one,
 * priority, then time queued. The same statement stores the attempt's task
 * token and returns the task, its agent and its context.
 *
 * With `gated`, it also reads the dispatch settings, checks the gate and
 * whether stale in-flight work exists: the common claim is one round trip.
 * (Measured with `pnpm bench`: a claim used to take seven sequential queries;
 * those round trips, not the database, bounded HTTP drain throughput.)
 */
export function claimSql(
  request: ClaimRequest,
  slugs: readonly string[],
  gated: { freshWorkerOnly: boolean } | undefined,
  tokenHash: string,
): SQL {
  // A parked long-poll of a worker whose heartbeat went stale must not claim
  // (its sender may be frozen); checked here rather than in a query of its own.
  const workerStale = gated?.freshWorkerOnly
    ? sql`exists (select 1 from worker_heartbeats w where w.worker_id = ${request.workerId}
          and w.last_seen_at < now() - make_interval(secs => ${intSetting("dispatch_worker_stale_seconds")}))`
    : sql`false`;
  const stale = staleCriteria({ staleMinutes: intSetting("dispatch_stale_minutes"), workerStaleSeconds: intSetting("dispatch_worker_stale_seconds") });
  return sql`with ${gated ? sql`cfg as (
          select json_object_agg(key, value) as settings from ops_settings where key in ${literalList(DISPATCH_KEYS)}
        ), gate as ${GATE}, ` : sql``}candidate as (
          -- The workspaces' order is computed first (a sort of a few rows); the
          -- nested loop then walks each workspace's queue index in that order
          -- and stops at the first claimable task: one row locked, as before.
          select c.id from ${fairWorkspaces(request.pool)} ws
          cross join lateral (
            select t.id from tasks t
            join agents a on a.id = t.agent_id
            where t.workspace_id = ws.id
              and t.status = 'queued' and t.archived_at is null and not t.blocked
              and (not t.sensitive or t.approved_at is not null)
              and a.active and a.slug in ${literalList(slugs)}
              and ${modelFilterSql(sql`t.model`, request.models)}
            -- nulls last: the order of tasks_workspace_queue_idx (priority is
            -- not null, so the same order), without which the planner cannot
            -- walk the index and sorts the workspace's queue on every claim
            -- (pnpm bench: 6-8 ms per claim with 20,000 queued, 0.2 ms with the index).
            order by t.priority desc nulls last, t.queued_at, t.id
            limit 1
            for update of t skip locked
          ) c
          ${gated ? sql`where (select enabled and not capped from gate) and not ${workerStale}` : sql``}
          limit 1
        ), claimed as (
          update tasks set status = 'dispatching', claimed_by = ${request.workerId}, claimed_at = now(),
                 claim_attempt = tasks.claim_attempt + 1, cancel_requested_at = null, updated_at = now()
          from candidate where tasks.id = candidate.id
          returning tasks.*
        ), token as (
          insert into task_tokens (token_hash, task_id, claim_attempt)
          select ${tokenHash}, claimed.id, claimed.claim_attempt from claimed
        )
        select ${gated ? sql`(select settings from cfg) as settings, (select enabled from gate) as enabled,
               (select capped from gate) as capped, ${workerStale} as worker_stale,
               exists (select 1 from ${TASKS_WITH_WORKER} where ${stale}) as stale_work,` : sql``}
               (select row_to_json(x) from (
                  select claimed.*, a.slug as agent_slug, row_to_json(a) as agent_row,
                         (select coalesce(json_agg(c order by c.id), '[]'::json) from task_context c where c.task_id = claimed.id) as context_rows
                  from claimed join agents a on a.id = claimed.agent_id) x) as claimed_row`;
}

/** Runs the claim statement with a fresh task token (only its hash is stored). */
async function claimStatement(
  db: DbOrTx,
  request: ClaimRequest,
  slugs: readonly string[],
  gated: { freshWorkerOnly: boolean } | undefined,
): Promise<{ claimed: Claimed | undefined; row: Record<string, unknown> | undefined }> {
  const token = generateToken();
  const [row] = await queryPrepared<Record<string, unknown>>(db, claimSql(request, slugs, gated, hashToken(token)));
  return { claimed: toClaimed(jsonValue<Record<string, unknown> | null>(row?.claimed_row), token), row };
}

function toClaimed(raw: Record<string, unknown> | null, token: string): Claimed | undefined {
  if (!raw) return undefined;
  const task = taskFromRaw(raw);
  return {
    claimed: true,
    task: toTaskDto(task),
    agent: toAgentDto(agentRow(jsonValue(raw.agent_row))),
    context: jsonValue<Record<string, unknown>[]>(raw.context_rows).map((c) => toContextDto(contextRow(c))),
    attempt: task.claimAttempt,
    task_token: token,
  };
}

/**
 * One claim attempt behind the dispatch gate, in one statement: claims the best
 * task when dispatch is on and no cap is set, and reports what it saw — the
 * gate, a stale caller, stale in-flight work. It only claims: reconciling that
 * stale work, and claiming under caps, are the caller's (dispatch/next.ts).
 */
export async function claimNextTask(db: Db, request: ClaimRequest, options: { freshWorkerOnly: boolean }): Promise<ClaimAttempt> {
  const { claimed, row } = await claimStatement(db, request, request.agentSlugs, options);
  return {
    claimed,
    enabled: Boolean(row?.enabled),
    capped: Boolean(row?.capped),
    workerStale: Boolean(row?.worker_stale),
    staleWork: Boolean(row?.stale_work),
    settings: parseDispatchSettings(jsonValue<Record<string, string> | null>(row?.settings) ?? {}),
  };
}

/** Tasks in dispatching + doing, in all and per agent slug: what the caps count. */
export async function countInFlight(db: DbOrTx): Promise<{ total: number; bySlug: Map<string, number> }> {
  const rows = await queryRows<{ slug: string; n: number }>(
    db,
    sql`select a.slug, count(*)::int as n from tasks t join agents a on a.id = t.agent_id
        where t.status in ${literalList(IN_FLIGHT_STATUSES)} group by a.slug`,
  );
  const bySlug = new Map(rows.map((r) => [r.slug, Number(r.n)]));
  return { total: [...bySlug.values()].reduce((a, b) => a + b, 0), bySlug };
}

/** Slugs still under their per-agent caps, or "capacity" when the global cap is full. */
async function slugsUnderCaps(
  db: DbOrTx,
  settings: DispatchSettings,
  slugs: readonly string[],
): Promise<readonly string[] | "capacity"> {
  const { total, bySlug } = await countInFlight(db);
  if (settings.maxConcurrent > 0 && total >= settings.maxConcurrent) return "capacity";
  const open = slugs.filter((s) => settings.agentCaps[s] === undefined || (bySlug.get(s) ?? 0) < settings.agentCaps[s]!);
  return open.length > 0 ? open : "capacity";
}

/** The claim when caps are configured: counted and claimed under one advisory lock. */
export async function claimUnderCaps(db: Db, request: ClaimRequest, settings: DispatchSettings): Promise<Claimed | "capacity" | undefined> {
  return db.transaction(async (tx) => {
    await tx.execute(sql`select pg_advisory_xact_lock(${CAPS_LOCK_KEY})`);
    const open = await slugsUnderCaps(tx, settings, request.agentSlugs);
    if (open === "capacity") return "capacity";
    return (await claimStatement(tx, request, open, undefined)).claimed;
  });
}

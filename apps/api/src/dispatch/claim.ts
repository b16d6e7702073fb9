import { defaultIntSetting, type SettingKey, type TNextResult } from "@ops/contract";
import { agents, type Db, type DbOrTx, jsonValue, queryPrepared, queryRows, rowMapper, taskContext, tasks } from "@ops/db";
import { sql } from "drizzle-orm";
import { generateToken, hashToken } from "../auth/crypto.ts";
import { DISPATCH_KEYS, type DispatchSettings, parseDispatchSettings } from "../domain/settings.ts";
import { toAgentDto, toContextDto, toTaskDto } from "../domain/serialize.ts";
import { modelFilterSql } from "./model-match.ts";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import { staleCriteria, TASKS_WITH_WORKER } from "../watchdog/stale.ts";

export interface ClaimRequest {
  workerId: string;
  agentSlugs: readonly string[];
  models: readonly string[];
}

type Claimed = Extract<TNextResult, { claimed: true }>;

// Cap checks read counts and then claim; the advisory lock makes that pair
// atomic across connections and API instances. Without caps, no lock is taken.
const CAPS_LOCK_KEY = 0x0d15a7c4;

const taskRow = rowMapper(tasks);
const agentRow = rowMapper(agents);
const contextRow = rowMapper(taskContext);

/**
 * One claim attempt: the best queued task this worker can run, moved to
 * dispatching in a single statement (a CTE with FOR UPDATE SKIP LOCKED, so two
 * workers never get the same task). Order: priority, then time queued.
 *
 * The same statement stores the attempt's task token and returns the task, its
 * agent and its context. With `preflight`, it also reads the dispatch settings
 * and checks for stale in-flight work, and claims only when dispatch is on and
 * no cap is configured (caps need the locked count first): the common claim is
 * then one round trip. (Measured with `pnpm bench`: a claim used to take seven
 * sequential queries; those round trips, not the database, bounded HTTP drain
 * throughput.)
 */
async function claimStatement(
  db: DbOrTx,
  request: ClaimRequest,
  slugs: readonly string[],
  preflight: boolean,
  freshWorkerOnly = false,
): Promise<{ claimed: Claimed | undefined; settings?: unknown; gateOpen?: boolean; stale?: boolean; workerStale?: boolean }> {
  const modelOk = modelFilterSql(sql`t.model`, request.models);
  const token = generateToken();
  const gate = sql`(coalesce(cfg.settings->>'dispatch_enabled', 'false') = 'true'
      and coalesce(cfg.settings->>'dispatch_max_concurrent', '0') in ('0', '')
      and coalesce(cfg.settings->>'dispatch_agent_caps', '{}') in ('{}', ''))`;
  const stale = staleCriteria({ staleMinutes: intSetting("dispatch_stale_minutes"), workerStaleSeconds: intSetting("dispatch_worker_stale_seconds") });
  // A parked long-poll of a worker whose heartbeat went stale must not claim
  // (its sender may be frozen); checked here rather than in a query of its own.
  const workerStale = freshWorkerOnly
    ? sql`exists (select 1 from worker_heartbeats w where w.worker_id = ${request.workerId}
          and w.last_seen_at < now() - make_interval(secs => ${intSetting("dispatch_worker_stale_seconds")}))`
    : sql`false`;
  const [row] = await queryPrepared<Record<string, unknown>>(
    db,
    sql`with ${preflight ? sql`cfg as (
          select json_object_agg(key, value) as settings from ops_settings
          where key in ${sql.raw(`(${DISPATCH_KEYS.map(quoteLiteral).join(",")})`)}
        ), ` : sql``}candidate as (
          select t.id from tasks t
          join agents a on a.id = t.agent_id
          where ${preflight ? sql`(select ${gate} from cfg) and not ${workerStale} and ` : sql``}t.status = 'queued' and t.archived_at is null and not t.blocked
            and (not t.sensitive or t.approved_at is not null)
            and a.active and a.slug in ${sql.raw(`(${slugs.map(quoteLiteral).join(",")})`)}
            and ${modelOk}
          -- nulls last: the order of tasks_queue_idx (priority is not null, so
          -- the same order), without which the planner cannot walk the index
          -- and sorts every queued task on every claim (pnpm bench: 6-8 ms
          -- per claim with 20,000 queued, 0.2 ms with the index).
          order by t.priority desc nulls last, t.queued_at, t.id
          limit 1
          for update of t skip locked
        ), claimed as (
          update tasks set status = 'dispatching', claimed_by = ${request.workerId}, claimed_at = now(),
                 claim_attempt = tasks.claim_attempt + 1, cancel_requested_at = null, updated_at = now()
          from candidate where tasks.id = candidate.id
          returning tasks.*
        ), token as (
          insert into task_tokens (token_hash, task_id, claim_attempt)
          select ${hashToken(token)}, claimed.id, claimed.claim_attempt from claimed
        )
        select ${preflight ? sql`(select settings from cfg) as settings, (select ${gate} from cfg) as gate_open, ${workerStale} as worker_stale,
               exists (select 1 from ${TASKS_WITH_WORKER} where ${stale}) as stale,` : sql``}
               (select row_to_json(x) from (
                  select claimed.*, a.slug as agent_slug, row_to_json(a) as agent_row,
                         (select coalesce(json_agg(c order by c.id), '[]'::json) from task_context c where c.task_id = claimed.id) as context_rows
                  from claimed join agents a on a.id = claimed.agent_id) x) as claimed_row`,
  );
  const raw = jsonValue<Record<string, unknown> | null>(row?.claimed_row);
  let claimed: Claimed | undefined;
  if (raw) {
    const task = { ...taskRow(raw), agentSlug: raw.agent_slug as string };
    claimed = {
      claimed: true,
      task: toTaskDto(task),
      agent: toAgentDto(agentRow(jsonValue(raw.agent_row))),
      context: jsonValue<Record<string, unknown>[]>(raw.context_rows).map((c) => toContextDto(contextRow(c))),
      attempt: task.claimAttempt,
      task_token: token,
    };
  }
  return {
    claimed,
    settings: row?.settings,
    gateOpen: Boolean(row?.gate_open),
    stale: Boolean(row?.stale),
    workerStale: Boolean(row?.worker_stale),
  };
}

const claimOne = async (db: DbOrTx, request: ClaimRequest, slugs: readonly string[]) =>
  (await claimStatement(db, request, slugs, false)).claimed;

// Slugs are validated by the contract (lowercase, digits, - and _), so quoting
// is only belt and braces; inlining them keeps one plan for both drivers.
const quoteLiteral = (s: string) => `'${s.replace(/'/g, "''")}'`;

/** Tasks in dispatching + doing, in all and per agent slug: what the caps count. */
export async function countInFlight(db: DbOrTx): Promise<{ total: number; bySlug: Map<string, number> }> {
  const rows = await queryRows<{ slug: string; n: number }>(
    db,
    sql`select a.slug, count(*)::int as n from tasks t join agents a on a.id = t.agent_id
        where t.status in ('dispatching', 'doing') group by a.slug`,
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

const hasCaps = (settings: DispatchSettings) =>
  settings.maxConcurrent > 0 || Object.keys(settings.agentCaps).length > 0;

export type ClaimOutcome = Claimed | { claimed: false; reason: "dispatch_disabled" | "empty" | "capacity"; reconciled: number };

/** A whole-number setting read in SQL, with parseDispatchSettings' fallback: the contract's default for a missing, zero or unreadable value. */
const intSetting = (key: SettingKey) =>
  sql`coalesce(nullif((select case when value ~ '^[0-9]{1,9}$' then value::int end from ops_settings where key = ${key}), 0), ${defaultIntSetting(key)}::int)`;

/**
 * POST /dispatch/next without the wait: reconcile stale work (runbook 3.1) and
 * claim when dispatch is enabled. One round trip when nothing is stale and no
 * cap is set: the claim statement reads the settings and the stale check itself.
 */
export async function claimNextTask(
  db: Db,
  request: ClaimRequest,
  actor: string,
  /** freshWorkerOnly: claim nothing if the caller's heartbeat is stale (the answer then says workerStale). */
  options: { freshWorkerOnly?: boolean } = {},
): Promise<ClaimOutcome | { claimed: false; workerStale: true }> {
  const first = await claimStatement(db, request, request.agentSlugs, true, options.freshWorkerOnly);
  const settings = parseDispatchSettings(jsonValue<Record<string, string> | null>(first.settings) ?? {});
  // Reconciling stale work frees no queued task, so running it after the
  // claim statement changes nothing for the claim; caps, which it can free,
  // are claimed below, after it.
  const reconciled = first.stale ? (await runWatchdogPass(db, { actor, manual: false }, settings)).taskIds : [];
  if (first.claimed) return first.claimed;
  if (first.workerStale) return { claimed: false, workerStale: true };
  if (!settings.dispatchEnabled) return { claimed: false, reason: "dispatch_disabled", reconciled: reconciled.length };
  let claimed: Claimed | undefined;
  let capacity = false;
  if (hasCaps(settings)) {
    claimed = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${CAPS_LOCK_KEY})`);
      const open = await slugsUnderCaps(tx, settings, request.agentSlugs);
      if (open === "capacity") {
        capacity = true;
        return undefined;
      }
      return claimOne(tx, request, open);
    });
  } else if (!first.gateOpen) {
    // A settings spelling the one-statement gate does not take as "no caps".
    claimed = await claimOne(db, request, request.agentSlugs);
  }
  return claimed ?? { claimed: false, reason: capacity ? "capacity" : "empty", reconciled: reconciled.length };
}

import type { TNextResult } from "@ops/contract";
import { agents, type Db, type DbOrTx, queryRows, taskContext, taskTokens } from "@ops/db";
import { asc, eq, sql } from "drizzle-orm";
import { generateToken, hashToken } from "../auth/crypto.ts";
import { readDispatchSettings, type DispatchSettings } from "../domain/settings.ts";
import { loadTask } from "../domain/tasks.ts";
import { toAgentDto, toContextDto, toTaskDto } from "../domain/serialize.ts";
import { modelFilterSql } from "./model-match.ts";
import { runWatchdogPass } from "./watchdog.ts";

export interface ClaimRequest {
  workerId: string;
  agentSlugs: readonly string[];
  models: readonly string[];
}

type Claimed = Extract<TNextResult, { claimed: true }>;

// Cap checks read counts and then claim; the advisory lock makes that pair
// atomic across connections and API instances. Without caps, no lock is taken.
const CAPS_LOCK_KEY = 0x0d15a7c4;

/**
 * One claim attempt: the best queued task this worker can run, moved to
 * dispatching in a single statement (a CTE with FOR UPDATE SKIP LOCKED, so two
 * workers never get the same task). Order: priority, then time queued.
 */
async function claimOne(db: DbOrTx, request: ClaimRequest, slugs: readonly string[]): Promise<number | undefined> {
  const modelOk = modelFilterSql(sql`t.model`, request.models);
  const [row] = await queryRows<Record<string, unknown>>(
    db,
    sql`with candidate as (
          select t.id from tasks t
          join agents a on a.id = t.agent_id
          where t.status = 'queued' and t.archived_at is null and not t.blocked
            and (not t.sensitive or t.approved_at is not null)
            and a.active and a.slug in ${sql.raw(`(${slugs.map(quoteLiteral).join(",")})`)}
            and ${modelOk}
          order by t.priority desc, t.queued_at, t.id
          limit 1
          for update of t skip locked
        )
        update tasks set status = 'dispatching', claimed_by = ${request.workerId}, claimed_at = now(),
               claim_attempt = tasks.claim_attempt + 1, cancel_requested_at = null, updated_at = now()
        from candidate where tasks.id = candidate.id
        returning tasks.id`,
  );
  return row ? Number(row.id) : undefined;
}

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

/** The claimed task with what the launcher needs, plus a token scoped to this attempt. */
async function describeClaim(db: DbOrTx, taskId: number): Promise<Claimed> {
  const task = await loadTask(db, taskId);
  const [agent] = await db.select().from(agents).where(eq(agents.id, task.agentId!));
  const context = await db.select().from(taskContext).where(eq(taskContext.taskId, taskId)).orderBy(asc(taskContext.id));
  const token = generateToken();
  await db.insert(taskTokens).values({ tokenHash: hashToken(token), taskId, claimAttempt: task.claimAttempt });
  return {
    claimed: true,
    task: toTaskDto(task),
    agent: toAgentDto(agent!),
    context: context.map(toContextDto),
    attempt: task.claimAttempt,
    task_token: token,
  };
}

export type ClaimOutcome = Claimed | { claimed: false; reason: "dispatch_disabled" | "empty" | "capacity"; reconciled: number };

/**
 * POST /dispatch/next without the wait: reconcile stale work first (runbook
 * 3.1), then claim when dispatch is enabled.
 */
export async function claimNextTask(db: Db, request: ClaimRequest, actor: string): Promise<ClaimOutcome> {
  const settings = await readDispatchSettings(db);
  const { taskIds: reconciled } = await runWatchdogPass(db, { actor, manual: false }, settings);
  if (!settings.dispatchEnabled) return { claimed: false, reason: "dispatch_disabled", reconciled: reconciled.length };
  let claimedId: number | undefined;
  let capacity = false;
  if (hasCaps(settings)) {
    claimedId = await db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${CAPS_LOCK_KEY})`);
      const open = await slugsUnderCaps(tx, settings, request.agentSlugs);
      if (open === "capacity") {
        capacity = true;
        return undefined;
      }
      return claimOne(tx, request, open);
    });
  } else {
    claimedId = await claimOne(db, request, request.agentSlugs);
  }
  if (claimedId === undefined) {
    return { claimed: false, reason: capacity ? "capacity" : "empty", reconciled: reconciled.length };
  }
  return describeClaim(db, claimedId);
}

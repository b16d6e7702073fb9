import type { TNextResult } from "@ops/contract";
import { type Db, literalList, type OpsDatabase, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { QUEUE_CHANNEL } from "../domain/queue-task.ts";
import type { SettingsCache } from "../domain/settings-cache.ts";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import { type Claimed, type ClaimRequest, claimNextTask, claimUnderCaps } from "./claim.ts";

type Reason = "empty" | "capacity" | "dispatch_disabled";

/** One parked POST /dispatch/next, waiting for the dispatcher to claim for it. */
interface Parked {
  request: ClaimRequest;
  actor: string;
  parkedAt: number;
  /** A claim for this request is in flight. */
  busy: boolean;
  /** Answered (claimed, timed out, aborted): a claim that lands now is released. */
  done: boolean;
  /** Its wait ended while a claim for it was in flight: answer when that claim returns. */
  expired: boolean;
  lastReason: Reason | undefined;
  signal: AbortSignal;
  settle(result: TNextResult): void;
}

/**
 * Parked requests that would claim alike: same slugs, model filters and pool.
 * When the claim finds nothing for one of them, it finds nothing for any.
 */
interface Group {
  key: string;
  slugs: readonly string[];
  /** Longest parked first. */
  entries: Parked[];
}

interface Pending {
  /** Slugs NOTIFYed since the last round, or all: a tick found work or a setting changed. */
  slugs: Set<string> | "all";
  /** How many claims the notifications announce (Infinity: claim until nothing is left). */
  budget: number;
}

const EMPTY_RESULT = (reason: Reason): TNextResult => ({ claimed: false, reason, reconciled: 0 });

export const groupKey = (request: ClaimRequest): string =>
  JSON.stringify([[...request.agentSlugs].sort(), [...request.models].sort(), request.pool === null ? null : [...request.pool].sort((a, b) => a - b)]);

/**
 * One dispatcher per API instance. Before it, every parked `dispatch/next`
 * re-ran the claim statement every second and every NOTIFY woke every parked
 * request of the slug, which then raced for the one new task: the idle cost
 * and the pickup latency grew with the fleet (issue 12: 1,192 transactions/s
 * and 189 ms p50 at 1,000 launchers).
 *
 * Now a parked request only registers here. On a NOTIFY of QUEUE_CHANNEL (from
 * any instance) the dispatcher claims, with the same fenced claim statement, for
 * the longest-parked request of each matching group (slugs, model filters,
 * pool), one group after another, and hands the task to that request alone;
 * the others are not woken. One timer for the instance (OPS_DISPATCH_REPOLL_MS)
 * asks the database one cheap question — is anything claimable for the slugs
 * parked here? — to catch what arrives without a NOTIFY (a listener
 * reconnecting, an approval, a cap freed, a workspace switched on): an idle
 * fleet costs one statement per tick, however many launchers are parked, and
 * none while dispatch is off or nobody is parked.
 *
 * Nothing here is needed for correctness: the claim statement is the gate
 * (dispatch switch, caps, Human Gate, fence, a stale caller), as before.
 */
export class Dispatcher {
  private readonly groups = new Map<string, Group>();
  private parkedCount = 0;
  private pending: Pending | undefined;
  private running = false;
  private stopped = false;
  private tickTimer: NodeJS.Timeout | undefined;
  private unlisten: (() => Promise<void>) | undefined;
  private unwatchSettings: (() => void) | undefined;
  private watchdogRunning = false;
  /** Bumped by every event that may make work claimable; an "empty" older than it says nothing. */
  private seq = 0;
  /**
   * Groups whose claim found nothing, at which `seq` and when: a new request of
   * the group parks without asking. `checking`: one request is asking again
   * (the answer is older than a tick); the others park meanwhile.
   */
  private readonly emptyAt = new Map<string, { seq: number; at: number; checking: boolean }>();

  constructor(
    private readonly db: Db,
    private readonly database: OpsDatabase | undefined,
    private readonly settings: SettingsCache,
    private readonly log: Logger,
    private readonly tickMs: number,
  ) {}

  async start(): Promise<void> {
    if (this.database) {
      try {
        this.unlisten = await this.database.listen(
          QUEUE_CHANNEL,
          (slug) => this.notify(slug),
          // Reconnected: notifications may have been missed meanwhile.
          () => this.wakeAll(),
        );
      } catch (err) {
        this.log.warn({ err }, "LISTEN unavailable; parked launchers are served by the dispatcher's timer");
      }
    }
    // A setting changed (dispatch switched on, a cap raised): what was empty may not be.
    this.unwatchSettings = this.settings.onChange(() => this.wakeAll());
    this.tickTimer = setInterval(() => void this.tick(), this.tickMs);
    this.tickTimer.unref();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.tickTimer);
    this.unwatchSettings?.();
    for (const group of this.groups.values()) for (const entry of [...group.entries]) this.answer(entry, EMPTY_RESULT("empty"));
    await this.unlisten?.().catch(() => {});
  }

  /** Parked requests on this instance (tests and the bench read it). */
  get parked(): number {
    return this.parkedCount;
  }

  /** A task was queued for `slug` (empty: any slug). */
  notify(slug: string): void {
    this.seq++;
    this.enqueue(slug ? new Set([slug]) : "all", slug ? 1 : Number.POSITIVE_INFINITY);
  }

  /** Something other than a queued task may have made work claimable: every group is tried. */
  wakeAll(): void {
    this.seq++;
    this.enqueue("all", Number.POSITIVE_INFINITY);
  }

  /** The event counter, read before a request's own claim: see `park`. */
  get eventSeq(): number {
    return this.seq;
  }

  /**
   * Whether a new request of this group may park without its own claim: the
   * group's claim found nothing since the last event, less than a tick ago.
   * At 5,000 launchers re-parking every 25 s that is 200 claim statements a
   * second saved.
   */
  knownEmpty(request: ClaimRequest): boolean {
    const e = this.emptyAt.get(groupKey(request));
    if (e === undefined || e.seq !== this.seq) return false;
    if (Date.now() - e.at < Math.min(this.tickMs, 1000)) return true;
    // Older than a tick: one request asks again, the others park meanwhile.
    // (Without this, at 5,000 launchers every re-park arriving while that one
    // claim ran asked too: 100 claims a second, measured with `pnpm bench`.)
    if (e.checking) return true;
    e.checking = true;
    return false;
  }

  /** The request's own claim found nothing. */
  markEmpty(request: ClaimRequest, seqBefore: number): void {
    if (seqBefore === this.seq) this.emptyAt.set(groupKey(request), { seq: seqBefore, at: Date.now(), checking: false });
    else this.emptyAt.delete(groupKey(request));
  }

  /**
   * The request's own claim found work, or could not tell (capacity, an
   * error): the group is not known empty, and its parked requests may be able
   * to claim too (work that came without a NOTIFY).
   */
  notEmpty(request: ClaimRequest, claimed: boolean): void {
    const key = groupKey(request);
    this.emptyAt.delete(key);
    if (claimed && this.groups.has(key)) this.enqueue(new Set(request.agentSlugs), Number.POSITIVE_INFINITY);
  }

  /**
   * Parks a request until the dispatcher claims for it, `deadline` passes or
   * `signal` aborts (the client went away). `seqBefore` is `eventSeq` from
   * before the request's own claim: an event since then may have announced a
   * task that claim did not see, so a round runs for it at once.
   */
  park(request: ClaimRequest, actor: string, deadline: number, signal: AbortSignal, lastReason: Reason | undefined, seqBefore: number): Promise<TNextResult> {
    return new Promise<TNextResult>((resolve) => {
      const key = groupKey(request);
      let group = this.groups.get(key);
      if (!group) {
        group = { key, slugs: request.agentSlugs, entries: [] };
        this.groups.set(key, group);
      }
      const g = group;
      let timer: NodeJS.Timeout | undefined;
      const onAbort = () => this.answer(entry, EMPTY_RESULT("empty"));
      const entry: Parked = {
        request,
        actor,
        parkedAt: Date.now(),
        busy: false,
        done: false,
        expired: false,
        lastReason,
        signal,
        settle: (result) => {
          clearTimeout(timer);
          signal.removeEventListener("abort", onAbort);
          const i = g.entries.indexOf(entry);
          if (i >= 0) {
            g.entries.splice(i, 1);
            this.parkedCount--;
          }
          if (g.entries.length === 0 && this.groups.get(g.key) === g) this.groups.delete(g.key);
          resolve(result);
        },
      };
      if (this.stopped || signal.aborted) return resolve(EMPTY_RESULT("empty"));
      g.entries.push(entry);
      this.parkedCount++;
      signal.addEventListener("abort", onAbort, { once: true });
      timer = setTimeout(() => {
        if (entry.busy) entry.expired = true;
        else this.answer(entry, this.timeoutResult(entry));
      }, Math.max(0, deadline - Date.now()));
      if (seqBefore !== this.seq) this.enqueue(new Set(request.agentSlugs), Number.POSITIVE_INFINITY);
    });
  }

  private timeoutResult(entry: Parked): TNextResult {
    if (this.settings.peek()?.dispatchEnabled === false) return EMPTY_RESULT("dispatch_disabled");
    return EMPTY_RESULT(entry.lastReason ?? "empty");
  }

  private answer(entry: Parked, result: TNextResult): void {
    if (entry.done) return;
    entry.done = true;
    entry.settle(result);
  }

  private enqueue(slugs: Set<string> | "all", budget: number): void {
    if (this.stopped || this.parkedCount === 0) return;
    if (!this.pending) this.pending = { slugs, budget };
    else {
      const p = this.pending;
      p.slugs = p.slugs === "all" || slugs === "all" ? "all" : new Set([...p.slugs, ...slugs]);
      p.budget += budget;
    }
    if (!this.running) setImmediate(() => void this.run());
  }

  /** Rounds, one at a time, until no event is pending. */
  private async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      while (this.pending && !this.stopped) {
        const round = this.pending;
        this.pending = undefined;
        await this.round(round).catch((err: unknown) => this.log.warn({ err }, "dispatcher round failed"));
      }
    } finally {
      this.running = false;
    }
  }

  private async round(round: Pending): Promise<void> {
    const settings = await this.settings.get().catch(() => undefined);
    // The statement checks the switch too; this only saves asking while it is off.
    if (settings && !settings.dispatchEnabled) return;
    const groups = [...this.groups.values()]
      .filter((g) => round.slugs === "all" || g.slugs.some((s) => (round.slugs as Set<string>).has(s)))
      .sort((a, b) => (a.entries[0]?.parkedAt ?? 0) - (b.entries[0]?.parkedAt ?? 0));
    let budget = round.budget;
    for (const group of groups) {
      if (budget <= 0 || this.stopped) return;
      budget -= await this.serveGroup(group, budget);
    }
  }

  /**
   * Claims for the group's longest-parked requests, one after another, until
   * the claim finds nothing or `budget` claims were made. Returns the claims made.
   */
  private async serveGroup(group: Group, budget: number): Promise<number> {
    let claims = 0;
    while (claims < budget && !this.stopped) {
      const entry = group.entries.find((e) => !e.busy && !e.done);
      if (!entry) return claims;
      const seqBefore = this.seq;
      entry.busy = true;
      let outcome: Claimed | Reason | "worker_stale" | undefined;
      let staleWork = false;
      try {
        const attempt = await claimNextTask(this.db, entry.request, { freshWorkerOnly: true });
        staleWork = attempt.staleWork;
        if (attempt.claimed) outcome = attempt.claimed;
        else if (attempt.workerStale) outcome = "worker_stale";
        else if (!attempt.enabled) outcome = "dispatch_disabled";
        else if (attempt.capped) {
          const capped = await claimUnderCaps(this.db, entry.request, attempt.settings);
          outcome = capped === "capacity" ? "capacity" : (capped ?? "empty");
        } else outcome = "empty";
      } catch (err) {
        this.log.warn({ err, worker_id: entry.request.workerId }, "dispatcher claim failed");
      } finally {
        entry.busy = false;
      }
      if (staleWork) this.reconcileStaleWork(entry.actor);
      if (outcome === undefined) {
        // The database failed this claim; a request whose wait ended meanwhile is answered now.
        if (entry.expired) this.answer(entry, this.timeoutResult(entry));
        return claims;
      }
      if (typeof outcome === "object") {
        claims++;
        await this.handOver(entry, outcome);
        continue;
      }
      if (outcome === "worker_stale") {
        // Its sender may be frozen: it is answered "empty" and claims nothing.
        this.answer(entry, EMPTY_RESULT("empty"));
        continue;
      }
      for (const e of group.entries) e.lastReason = outcome;
      if (entry.expired) this.answer(entry, this.timeoutResult(entry));
      if (outcome === "empty") this.emptyAt.set(group.key, { seq: seqBefore, at: Date.now(), checking: false });
      return claims;
    }
    return claims;
  }

  /** Gives the claimed task to its request, or puts it back when nobody is there to take it. */
  private async handOver(entry: Parked, claimed: Claimed): Promise<void> {
    if (!entry.done && !entry.signal.aborted) {
      this.answer(entry, claimed);
      return;
    }
    this.answer(entry, EMPTY_RESULT("empty"));
    await releaseClaim(this.db, entry.request.workerId, claimed).catch((err: unknown) =>
      this.log.error({ err, task_id: claimed.task.id }, "could not release a claim made for a request that went away; the watchdog will recover the task"),
    );
  }

  /** The claim statement saw stale in-flight work: one watchdog pass, not one per claim. */
  private reconcileStaleWork(actor: string): void {
    if (this.watchdogRunning) return;
    this.watchdogRunning = true;
    void runWatchdogPass(this.db, { actor, manual: false })
      .catch((err: unknown) => this.log.warn({ err }, "watchdog pass failed"))
      .finally(() => {
        this.watchdogRunning = false;
      });
  }

  /**
   * The instance's timer: with requests parked and dispatch on, one statement
   * asks which of their slugs have claimable work; a round runs only for those.
   */
  private async tick(): Promise<void> {
    if (this.stopped || this.parkedCount === 0 || this.running || this.pending) return;
    const settings = await this.settings.get().catch(() => undefined);
    if (settings && !settings.dispatchEnabled) return;
    const slugs = new Set<string>();
    for (const g of this.groups.values()) for (const s of g.slugs) slugs.add(s);
    if (slugs.size === 0) return;
    const seqBefore = this.seq;
    try {
      const rows = await queryRows<{ slug: string }>(this.db, claimableSlugsSql(slugs));
      if (rows.length === 0) {
        // Nothing claimable for any parked slug (the probe is wider than any group's claim):
        // every parked group is known empty for another tick, so its re-parking requests
        // need not ask again themselves.
        if (seqBefore === this.seq) {
          const at = Date.now();
          for (const key of this.groups.keys()) this.emptyAt.set(key, { seq: seqBefore, at, checking: false });
        }
        return;
      }
      this.seq++;
      this.enqueue(new Set(rows.map((r) => r.slug)), Number.POSITIVE_INFINITY);
    } catch (err) {
      this.log.warn({ err }, "dispatcher tick failed");
    }
  }
}

/** Agent slugs (of `slugs`) with at least one task the claim statement could take, ignoring model filters and pools. */
function claimableSlugsSql(slugs: ReadonlySet<string>) {
  return sql`select a.slug from agents a
    where a.active and a.slug in ${literalList([...slugs])}
      and exists (select 1 from tasks t join workspaces ws on ws.id = t.workspace_id
                  where t.agent_id = a.id and t.status = 'queued' and t.archived_at is null and not t.blocked
                    and (not t.sensitive or t.approved_at is not null) and ws.dispatch_enabled)
    group by a.slug`;
}

/**
 * Puts back a claim nobody will receive (the request was aborted, or ended,
 * while the claim ran): the task returns to queued in its old place, the
 * attempt's token and its (unstarted) run are removed, and the queue is
 * NOTIFYed so a launcher parked on any instance takes it. Fenced like a report:
 * it changes nothing unless the claim is still exactly as made.
 */
export async function releaseClaim(db: Db, workerId: string, claimed: Claimed): Promise<boolean> {
  const [row] = await queryRows<{ n: number }>(
    db,
    sql`with rel as (
          update tasks set status = 'queued', claimed_by = null, claimed_at = null, updated_at = now()
          where id = ${claimed.task.id} and claimed_by = ${workerId} and claim_attempt = ${claimed.attempt} and status = 'dispatching'
          returning id
        ), tok as (
          delete from task_tokens where task_id in (select id from rel) and claim_attempt = ${claimed.attempt}
        ), run as (
          delete from task_runs where task_id in (select id from rel) and attempt = ${claimed.attempt}
        ), wake as (
          select pg_notify(${QUEUE_CHANNEL}, ${claimed.agent.slug}) from rel
        )
        select (select count(*)::int from rel) as n, (select count(*) from wake) as notified`,
  );
  return Number(row?.n ?? 0) > 0;
}

import type { TNextResult } from "@ops/contract";
import type { Db } from "@ops/db";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import { type ClaimRequest, claimNextTask, claimUnderCaps } from "./claim.ts";
import type { SettingsCache } from "../domain/settings-cache.ts";
import { type Dispatcher, releaseClaim } from "./dispatcher.ts";

/**
 * One POST /dispatch/next attempt, in the runbook's order: stale work is
 * reconciled before a task is selected. The claim statement comes first only
 * because it is also what notices stale work (one round trip when there is
 * none); reconciling moves stale tasks to waiting and frees no queued task, so
 * it changes nothing for that claim. The claim under caps, whose capacity it
 * can free, comes after it. "worker_stale": the caller's heartbeat is stale.
 */
async function nextTask(db: Db, request: ClaimRequest, actor: string, freshWorkerOnly: boolean): Promise<TNextResult | "worker_stale"> {
  const attempt = await claimNextTask(db, request, { freshWorkerOnly });
  const reconciled = attempt.staleWork
    ? (await runWatchdogPass(db, { actor, manual: false }, attempt.settings)).taskIds.length
    : 0;
  if (attempt.claimed) return attempt.claimed;
  if (attempt.workerStale) return "worker_stale";
  if (!attempt.enabled) return { claimed: false, reason: "dispatch_disabled", reconciled };
  const capped = attempt.capped ? await claimUnderCaps(db, request, attempt.settings) : undefined;
  if (capped !== undefined && capped !== "capacity") return capped;
  return { claimed: false, reason: capped === "capacity" ? "capacity" : "empty", reconciled };
}

/**
 * POST /dispatch/next with the optional long-poll. The request first tries its
 * own claim (as without a wait) unless the dispatcher already knows its group
 * finds nothing; when nothing is claimable it parks with the instance's
 * dispatcher (dispatcher.ts), which claims for it when a matching task is
 * queued (LISTEN/NOTIFY, from any instance) or its timer finds work, until
 * `waitMs` passes. A parked request costs the database nothing of its own.
 */
export async function nextWithWait(
  db: Db,
  dispatcher: Dispatcher,
  settings: SettingsCache,
  request: ClaimRequest & { waitMs: number },
  actor: string,
  signal: AbortSignal,
): Promise<TNextResult> {
  const deadline = Date.now() + request.waitMs;
  if (request.waitMs <= 0) return answer(await nextTask(db, request, actor, false));
  const seqBefore = dispatcher.eventSeq;
  let lastReason: "empty" | "capacity" | "dispatch_disabled" | undefined;
  const off = (await settings.get().catch(() => undefined))?.dispatchEnabled === false;
  if (off) lastReason = "dispatch_disabled";
  else if (!dispatcher.knownEmpty(request)) {
    let outcome: TNextResult | "worker_stale";
    try {
      outcome = await nextTask(db, request, actor, false);
    } catch (err) {
      dispatcher.notEmpty(request, false);
      throw err;
    }
    // What the claim learnt about its group (and, when it was the one re-checking, lets the others ask again).
    if (outcome !== "worker_stale" && !outcome.claimed && outcome.reason === "empty") dispatcher.markEmpty(request, seqBefore);
    else dispatcher.notEmpty(request, outcome !== "worker_stale" && outcome.claimed);
    if (outcome === "worker_stale" || outcome.claimed) {
      // The client went away while the claim ran: the task goes back rather than nowhere.
      if (outcome !== "worker_stale" && signal.aborted) {
        await releaseClaim(db, request.workerId, outcome);
        return { claimed: false, reason: "empty", reconciled: 0 };
      }
      return answer(outcome);
    }
    if (signal.aborted || Date.now() >= deadline) return outcome;
    lastReason = outcome.reason;
  }
  return dispatcher.park(request, actor, deadline, signal, lastReason, seqBefore);
}

function answer(outcome: TNextResult | "worker_stale"): TNextResult {
  return outcome === "worker_stale" ? { claimed: false, reason: "empty", reconciled: 0 } : outcome;
}

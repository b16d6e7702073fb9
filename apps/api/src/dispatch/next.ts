import type { TNextResult } from "@ops/contract";
import type { Db } from "@ops/db";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import { type ClaimRequest, claimNextTask, claimUnderCaps } from "./claim.ts";
import type { DispatchWakeup } from "./wakeup.ts";

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
 * POST /dispatch/next with the optional long-poll: when nothing is claimable,
 * park until a task for one of the worker's slugs is queued (LISTEN/NOTIFY) or
 * `waitMs` passes. Idle launchers cost one cheap query per re-poll
 * (OPS_DISPATCH_REPOLL_MS, 1 s), not a spin.
 */
export async function nextWithWait(
  db: Db,
  wakeup: DispatchWakeup,
  // repollMs: re-check the queue at least this often while parked, in case a
  // NOTIFY was missed (listener reconnecting) or work became claimable without
  // one (a cap freed up, dispatch switched on).
  request: ClaimRequest & { waitMs: number; repollMs: number },
  actor: string,
  signal: AbortSignal,
): Promise<TNextResult> {
  const deadline = Date.now() + request.waitMs;
  const subscription = request.waitMs > 0 ? wakeup.subscribe(request.agentSlugs) : undefined;
  try {
    for (let parked = false; ; parked = true) {
      // A parked request outlives its sender if the launcher froze (SIGSTOP,
      // a hung host): once its heartbeat is stale it must not be handed work.
      // The claim statement checks that itself (one round trip less per wake-up,
      // measured with `pnpm bench` pickup).
      const outcome = await nextTask(db, request, actor, parked);
      if (outcome === "worker_stale") return { claimed: false, reason: "empty", reconciled: 0 };
      const remaining = deadline - Date.now();
      if (outcome.claimed || !subscription || remaining <= 0 || signal.aborted) return outcome;
      await subscription.wait(Math.min(remaining, request.repollMs), signal);
    }
  } finally {
    subscription?.cancel();
  }
}

import type { Db } from "@ops/db";
import { claimNextTask, type ClaimOutcome, type ClaimRequest } from "./claim.ts";
import type { DispatchWakeup } from "./wakeup.ts";

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
): Promise<ClaimOutcome> {
  const deadline = Date.now() + request.waitMs;
  const subscription = request.waitMs > 0 ? wakeup.subscribe(request.agentSlugs) : undefined;
  try {
    for (let parked = false; ; parked = true) {
      // A parked request outlives its sender if the launcher froze (SIGSTOP,
      // a hung host): once its heartbeat is stale it must not be handed work.
      // The claim statement checks that itself (one round trip less per wake-up,
      // measured with `pnpm bench` pickup).
      const outcome = await claimNextTask(db, request, actor, { freshWorkerOnly: parked });
      if ("workerStale" in outcome) return { claimed: false, reason: "empty", reconciled: 0 };
      const remaining = deadline - Date.now();
      if (outcome.claimed || !subscription || remaining <= 0 || signal.aborted) return outcome;
      await subscription.wait(Math.min(remaining, request.repollMs), signal);
    }
  } finally {
    subscription?.cancel();
  }
}

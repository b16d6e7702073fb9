import { z } from "zod";

/**
 * Why the watchdog takes an in-flight task back: the one meaning of "stale"
 * that the watchdog, health (`queue.stale_dispatching` and the per-task
 * `stale_reason`) and the app share. The thresholds are the settings
 * `dispatch_stale_minutes` and `dispatch_worker_stale_seconds`.
 */
export const STALE_REASONS = {
  stale_dispatch: "in dispatching for more than dispatch_stale_minutes",
  worker_lost: "its worker has sent no heartbeat for dispatch_worker_stale_seconds",
  claim_lost: "its worker is alive but has not listed it as running dispatch_worker_stale_seconds after claiming it",
} as const;

export type TStaleReason = keyof typeof STALE_REASONS;
export const ZStaleReason = z.enum(Object.keys(STALE_REASONS) as [TStaleReason, ...TStaleReason[]]);

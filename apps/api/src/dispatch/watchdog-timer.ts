import type { AppDeps } from "../trpc/context.ts";
import { runWatchdogPass } from "./watchdog.ts";

/**
 * Runs the watchdog on a timer as well as before every claim, so a lost
 * worker's tasks are recovered even when no launcher is polling.
 */
export function startWatchdogTimer(deps: AppDeps): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { taskIds: ids } = await runWatchdogPass(deps.database.db, { actor: "system:watchdog", manual: false });
      if (ids.length > 0) deps.log.warn({ task_ids: ids }, "watchdog reconciled stale tasks");
    } catch (err) {
      deps.log.warn({ err }, "watchdog pass failed");
    } finally {
      running = false;
    }
  }, deps.env.OPS_WATCHDOG_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

import { readDispatchSettings } from "../domain/settings.ts";
import type { AppDeps } from "../trpc/context.ts";
import { reconcileStaleDispatches } from "./watchdog.ts";

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
      const settings = await readDispatchSettings(deps.database.db);
      const ids = await reconcileStaleDispatches(deps.database.db as never, {
        staleMinutes: settings.staleMinutes,
        workerStaleSeconds: settings.workerStaleSeconds,
        failureAlertThreshold: settings.failureAlertThreshold,
        actor: "system:watchdog",
        manual: false,
      });
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

import type { Db } from "@ops/db";
import type { Logger } from "pino";
import { runWatchdogPass } from "./reconcile.ts";

/**
 * Runs the watchdog on a timer as well as before every claim, so a lost
 * worker's tasks are recovered even when no launcher is polling.
 */
export function startWatchdogTimer(db: Db, log: Logger, intervalMs: number): () => void {
  let running = false;
  const timer = setInterval(async () => {
    if (running) return;
    running = true;
    try {
      const { taskIds: ids } = await runWatchdogPass(db, { actor: "system:watchdog", manual: false });
      if (ids.length > 0) log.warn({ task_ids: ids }, "watchdog reconciled stale tasks");
    } catch (err) {
      log.warn({ err }, "watchdog pass failed");
    } finally {
      running = false;
    }
  }, intervalMs);
  timer.unref();
  return () => clearInterval(timer);
}

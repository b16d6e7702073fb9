import { type Db, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { intSetting } from "../domain/settings.ts";

const BATCH = 200;
const RETENTION_INTERVAL_MS = 60 * 60 * 1000;

/**
 * Drops the output of runs that ended more than run_output_retention_days
 * ago; their records stay (outcome, exit, times, byte counts), marked pruned.
 * In batches, each locked with SKIP LOCKED so several API instances can run it.
 */
export async function pruneRunOutput(db: Db): Promise<number> {
  let pruned = 0;
  for (;;) {
    const rows = await queryRows<{ id: number }>(
      db,
      sql`with old as (
            select id from task_runs
            where ended_at < now() - make_interval(days => ${intSetting("run_output_retention_days")}) and output_pruned_at is null
            order by ended_at limit ${BATCH}
            for update skip locked
          ), dropped as (
            delete from task_run_output o using old where o.run_id = old.id
          )
          update task_runs r set output_pruned_at = now(), kept_bytes = 0 from old where r.id = old.id
          returning r.id`,
    );
    pruned += rows.length;
    if (rows.length < BATCH) return pruned;
  }
}

/** The retention pass once at start and then hourly. */
export function startOutputRetention(db: Db, log: Logger): () => void {
  let running = false;
  const pass = async () => {
    if (running) return;
    running = true;
    try {
      const runs = await pruneRunOutput(db);
      if (runs > 0) log.info({ runs }, "pruned the output of runs past run_output_retention_days");
    } catch (err) {
      log.warn({ err }, "run output retention pass failed");
    } finally {
      running = false;
    }
  };
  void pass();
  const timer = setInterval(() => void pass(), RETENTION_INTERVAL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

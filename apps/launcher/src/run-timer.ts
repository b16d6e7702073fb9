import type { LaunchRecord } from "./launch.ts";

/** The runbook-style reason a run stopped at its time limit carries, exactly. */
export const timedOutReason = (minutes: number) => `agent timed out after ${minutes} min`;

/**
 * The runs past their time limit at `now`. The clock is the run's start as
 * recorded in the state file, so a launcher restart does not reset it; runs
 * already being stopped are left to their stop.
 */
export function overdueRuns(runs: Iterable<LaunchRecord>, now: number): LaunchRecord[] {
  const overdue: LaunchRecord[] = [];
  for (const run of runs) {
    if (run.timeoutMinutes === undefined || run.stopReason !== undefined) continue;
    if (now - run.startedAt >= run.timeoutMinutes * 60_000) overdue.push(run);
  }
  return overdue;
}

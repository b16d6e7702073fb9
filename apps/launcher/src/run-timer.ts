import type { LaunchRecord } from "./launch.ts";

/** The runbook-style reason a run stopped at its time limit carries, exactly. */
export const timedOutReason = (minutes: number) => `agent timed out after ${minutes} min`;

/**
 * The runs past their time limit at `now` that still have to be stopped. The
 * clock is the run's start as recorded in the state file, so a launcher
 * restart does not reset it; a time-out stop that a restart cut short (its
 * reason saved, no signal result) is due again, so an agent ignoring SIGTERM
 * still gets its SIGKILL. Runs stopped for another reason are left to that stop.
 */
export function overdueRuns(runs: Iterable<LaunchRecord>, now: number): LaunchRecord[] {
  const overdue: LaunchRecord[] = [];
  for (const run of runs) {
    if (run.timeoutMinutes === undefined || run.stoppedWith !== undefined) continue;
    if (run.stopReason !== undefined && run.stopKind !== "timed_out") continue;
    if (now - run.startedAt >= run.timeoutMinutes * 60_000) overdue.push(run);
  }
  return overdue;
}

import type { LaunchRecord } from "./launch.ts";
import { stopGroup } from "./processes.ts";
import type { Logger } from "./worker-log.ts";

export interface RunStopperDeps {
  /** The runs this worker holds, by task id. */
  runs: ReadonlyMap<number, LaunchRecord>;
  log: Logger;
  /** SIGTERM → SIGKILL grace (OPS_STOP_GRACE_MS). */
  graceMs: number;
  /** Writes the state file: a stop's reason and result outlive a launcher restart. */
  persist(): void;
}

/**
 * Stops runs the worker must give up: an operator's cancel, or a claim that
 * went elsewhere (the heartbeat's stop_tasks, a started report refused).
 * The reason and the last signal are kept on the run's record, for its
 * failure report.
 */
export class RunStopper {
  /** Runs being stopped (TERM sent, KILL may follow): their outcome is read once the stop is over. */
  private readonly stopping = new Set<number>();

  constructor(private readonly deps: RunStopperDeps) {}

  isStopping(taskId: number): boolean {
    return this.stopping.has(taskId);
  }

  /** TERM the group, KILL after the grace period; `reason` (the heartbeat's, or the refused start's) goes into its failure report. */
  async stop(taskId: number, reason: string): Promise<void> {
    const record = this.deps.runs.get(taskId);
    // A stop cut short by a launcher restart (reason saved, no signal result)
    // runs again, so an agent ignoring SIGTERM still gets its SIGKILL.
    if (!record || record.stoppedWith || this.stopping.has(taskId)) return;
    this.stopping.add(taskId);
    try {
      record.stopReason ??= reason;
      this.deps.persist();
      this.deps.log.info({ task_id: taskId, pid: record.pid, reason: record.stopReason }, "stopping agent");
      const signal = await stopGroup(record.pid, this.deps.graceMs);
      record.stoppedWith = signal ?? "none";
      this.deps.persist();
    } finally {
      this.stopping.delete(taskId);
    }
  }
}

import { type ApiClient, describeError, isRetryable, opsCodeOf } from "./api.ts";
import type { ClaimReport, PendingReport } from "./reports.ts";
import type { Logger } from "./worker-log.ts";

const MAX_BACKOFF_MS = 30_000;
const REPORT_TIMEOUT_MS = 15_000;

export interface OutboxDeps {
  /** Sends one report to the API (`sendThrough`); throws what the API answered. */
  send(report: PendingReport): Promise<void>;
  log: Logger;
  /** Writes the state file, which holds the pending reports: nothing is lost to a crash. */
  persist(): void;
  /** The API took a report. */
  onDelivered(report: PendingReport): void;
  /** A started report was refused with STALE_CLAIM: the run is not this worker's to keep. */
  onStaleStart(taskId: number): void;
}

/**
 * The launcher's reports to the API (started, failed, finished), each fenced
 * by its claim. A report is persisted before it is sent and kept until the
 * API answers: a network error or 5xx is retried with back-off (the API may be
 * restarting); STALE_CLAIM means someone else owns the task now, and the
 * report is dropped, as is any other refusal. The reports of one claim reach
 * the API in the order they were queued, so an outcome never overtakes its
 * started report.
 */
export class ReportOutbox {
  private pending: PendingReport[] = [];
  private flushing = false;

  constructor(private readonly deps: OutboxDeps) {}

  /** The reports a restarted launcher found in its state file. */
  restore(reports: PendingReport[]): void {
    this.pending = [...reports];
  }

  get reports(): readonly PendingReport[] {
    return this.pending;
  }

  has(taskId: number, attempt: number, kind: PendingReport["kind"]): boolean {
    return this.pending.some((r) => r.taskId === taskId && r.attempt === attempt && r.kind === kind);
  }

  add(report: ClaimReport): void {
    this.pending.push({ ...report, tries: 0, nextAt: 0 });
    this.deps.persist();
    void this.flush();
  }

  /** Sends what is due; keeps what failed for a retry. */
  async flush(): Promise<void> {
    if (this.flushing) return;
    this.flushing = true;
    try {
      for (const report of [...this.pending]) {
        if (report.nextAt > Date.now() || this.waitsForEarlier(report)) continue;
        await this.deliver(report);
        this.deps.persist();
      }
    } finally {
      this.flushing = false;
    }
  }

  private waitsForEarlier(report: PendingReport): boolean {
    return this.pending.find((r) => r.taskId === report.taskId && r.attempt === report.attempt) !== report;
  }

  private drop(report: PendingReport): void {
    this.pending = this.pending.filter((r) => r !== report);
  }

  private async deliver(report: PendingReport): Promise<void> {
    const task = { task_id: report.taskId, attempt: report.attempt };
    try {
      await this.deps.send(report);
      this.drop(report);
      this.deps.onDelivered(report);
      this.deps.log.info({ ...task, ...(report.kind === "failed" ? { reason: report.payload.reason } : {}) }, `reported ${report.kind}`);
    } catch (error) {
      const stale = opsCodeOf(error) === "STALE_CLAIM";
      if (stale && report.kind === "started") {
        this.drop(report);
        this.deps.log.warn({ ...task, error: describeError(error) }, "task no longer held at start; stopping the agent");
        this.deps.onStaleStart(report.taskId);
      } else if (stale) {
        this.drop(report);
        this.deps.log.warn({ ...task, error: describeError(error) }, `${report.kind} report refused: someone else owns the task now`);
      } else if (!isRetryable(error)) {
        this.drop(report);
        this.deps.log.error({ ...task, error: describeError(error), payload: report.payload }, `${report.kind} report refused`);
      } else {
        report.tries++;
        report.nextAt = Date.now() + Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(report.tries, 5));
        this.deps.log.warn({ ...task, error: describeError(error) }, `${report.kind} report failed; will retry`);
      }
    }
  }
}

/** Each report through its contract procedure, fenced by worker and attempt. */
export function sendThrough(api: ApiClient, workerId: string): (report: PendingReport) => Promise<void> {
  return async (report) => {
    const fence = { id: report.taskId, worker_id: workerId, attempt: report.attempt };
    const options = { signal: AbortSignal.timeout(REPORT_TIMEOUT_MS) };
    switch (report.kind) {
      case "started":
        await api.dispatch.started.mutate({ ...fence, ...report.payload }, options);
        return;
      case "failed":
        await api.dispatch.failed.mutate({ ...fence, ...report.payload }, options);
        return;
      case "finished":
        await api.dispatch.finished.mutate({ ...fence, ...report.payload }, options);
        return;
    }
  };
}

import type { TStopTask } from "@ops/contract";
import { type ApiClient, describeError } from "./api.ts";
import { sleep } from "./sleep.ts";
import type { Logger } from "./worker-log.ts";

const MAX_BACKOFF_MS = 30_000;
const POLL_WAIT_MS = 25_000;

export interface StopWatchDeps {
  api: ApiClient;
  log: Logger;
  workerId: string;
  /** Aborted when the launcher stops. */
  signal: AbortSignal;
  /** The tasks whose agents run here now. */
  runningTaskIds(): number[];
  /** Stop one of them, for the reason the API gave. */
  onStop(stop: TStopTask): void;
}

/**
 * Keeps a `dispatch/stops` long-poll open while agents run, so an operator's
 * cancel reaches this launcher as soon as the API hears of it (the API answers
 * the parked request when the cancel's NOTIFY arrives) instead of with the
 * next heartbeat. When the set of running tasks changes, the poll is
 * restarted with the new list. With no agent running, nothing is asked.
 */
export class StopWatch {
  private changed = new AbortController();
  private wakeIdle?: () => void;

  constructor(private readonly deps: StopWatchDeps) {}

  /** The running tasks changed (a start or an end): ask again with the new list. */
  runsChanged(): void {
    this.changed.abort();
    this.wakeIdle?.();
  }

  async run(): Promise<void> {
    const { api, log, signal } = this.deps;
    let backoff = 1000;
    while (!signal.aborted) {
      const running = this.deps.runningTaskIds();
      if (running.length === 0) {
        await this.idle();
        continue;
      }
      this.changed = new AbortController();
      try {
        const answer = await api.dispatch.stops.mutate(
          { worker_id: this.deps.workerId, task_ids: running, wait_ms: POLL_WAIT_MS },
          { signal: AbortSignal.any([signal, this.changed.signal, AbortSignal.timeout(POLL_WAIT_MS + 30_000)]) },
        );
        backoff = 1000;
        for (const stop of answer.stop_tasks) this.deps.onStop(stop);
        // Stops that were answered are being carried out; do not ask again at once for the same ones.
        if (answer.stop_tasks.length > 0) await sleep(1000, AbortSignal.any([signal, this.changed.signal]));
      } catch (error) {
        if (signal.aborted) break;
        if (this.changed.signal.aborted) continue;
        log.warn({ error: describeError(error), retry_ms: backoff }, "dispatch/stops failed; the heartbeat still carries stops");
        await sleep(backoff, AbortSignal.any([signal, this.changed.signal]));
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async idle(): Promise<void> {
    const woken = new AbortController();
    this.wakeIdle = () => woken.abort();
    try {
      await sleep(5000, AbortSignal.any([woken.signal, this.deps.signal]));
    } finally {
      this.wakeIdle = undefined;
    }
  }
}

import { type ApiClient, describeError } from "./api.ts";
import type { LauncherConfig } from "./env.ts";
import type { Claim } from "./launch-plan.ts";
import { sleep } from "./sleep.ts";
import type { Logger } from "./worker-log.ts";

const MAX_BACKOFF_MS = 30_000;
/** A full launcher re-checks for a free slot at least this often. */
const SLOT_RECHECK_MS = 5000;

export interface ClaimLoopDeps {
  api: ApiClient;
  log: Logger;
  config: Pick<LauncherConfig, "workerId" | "models" | "pollWaitMs" | "heartbeatIntervalMs" | "maxConcurrent">;
  /** Aborted when the launcher stops: no new claim after that. */
  signal: AbortSignal;
  /** Runs holding a slot (stopping ones included: a slot is free once the process group is gone). */
  activeCount(): number;
  /** The slugs this host can run now. */
  usableSlugs(): string[];
  /** Launches the claimed task; every claim must end in a report. */
  onClaim(claim: Claim): Promise<void>;
}

/**
 * Asks `dispatch/next` for work while a slot is free, with the long-poll: the
 * API parks the request until a task for one of the usable slugs is queued.
 * Errors back off exponentially (1 s to 30 s); an answer without a task that
 * came back at once (dispatch off) waits a second before asking again.
 */
export class ClaimLoop {
  private wakeSlotWait?: () => void;

  constructor(private readonly deps: ClaimLoopDeps) {}

  /** A run ended: a launcher waiting for a free slot claims again now. */
  slotFreed(): void {
    this.wakeSlotWait?.();
  }

  async run(): Promise<void> {
    const { api, config, signal } = this.deps;
    let backoff = 1000;
    while (!signal.aborted) {
      if (this.deps.activeCount() >= config.maxConcurrent) {
        await this.waitForSlot();
        continue;
      }
      const slugs = this.deps.usableSlugs();
      if (slugs.length === 0) {
        await sleep(Math.min(config.heartbeatIntervalMs, 5000), signal);
        continue;
      }
      const asked = Date.now();
      try {
        const result = await api.dispatch.next.mutate(
          {
            worker_id: config.workerId,
            agent_slugs: slugs,
            ...(config.models.length > 0 ? { models: config.models } : {}),
            wait_ms: config.pollWaitMs,
          },
          { signal: AbortSignal.any([signal, AbortSignal.timeout(config.pollWaitMs + 30_000)]) },
        );
        backoff = 1000;
        if (result.claimed) await this.deps.onClaim(result);
        else if (Date.now() - asked < 500) await sleep(1000, signal);
      } catch (error) {
        if (signal.aborted) break;
        this.deps.log.warn({ error: describeError(error), retry_ms: backoff }, "dispatch/next failed; backing off");
        await sleep(backoff, signal);
        backoff = Math.min(backoff * 2, MAX_BACKOFF_MS);
      }
    }
  }

  private async waitForSlot(): Promise<void> {
    const freed = new AbortController();
    this.wakeSlotWait = () => freed.abort();
    try {
      await sleep(SLOT_RECHECK_MS, AbortSignal.any([freed.signal, this.deps.signal]));
    } finally {
      this.wakeSlotWait = undefined;
    }
  }
}

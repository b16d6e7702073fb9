import type { OpsDatabase } from "@ops/db";
import type { Logger } from "pino";
import { QUEUE_CHANNEL } from "../domain/queue-task.ts";

interface Waiter {
  slugs: ReadonlySet<string>;
  wake: () => void;
}

/**
 * Wakes long-polling `dispatch/next` calls when work is queued. One LISTEN per
 * API process; NOTIFY comes from whichever instance queued the task, so a
 * launcher parked on any instance hears it. The claim loop also re-polls on a
 * timer, so a missed notification (a reconnect) costs latency, not work.
 */
export class DispatchWakeup {
  private readonly waiters = new Set<Waiter>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly database: OpsDatabase,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    try {
      this.unlisten = await this.database.listen(QUEUE_CHANNEL, (slug) => this.notify(slug));
    } catch (err) {
      this.log.warn({ err }, "LISTEN unavailable; long-polls fall back to polling");
    }
  }

  async stop(): Promise<void> {
    for (const w of this.waiters) w.wake();
    await this.unlisten?.().catch(() => {});
  }

  notify(slug: string): void {
    for (const w of this.waiters) if (!slug || w.slugs.has(slug)) w.wake();
  }

  /**
   * Registers interest before the caller tries to claim, so a task queued
   * between the attempt and the wait is not missed. Resolves on a matching
   * notification, on `timeoutMs`, or when `signal` aborts.
   */
  subscribe(slugs: readonly string[]): { wait(timeoutMs: number, signal?: AbortSignal): Promise<void>; cancel(): void } {
    // A wake that arrives while the caller is busy claiming is remembered
    // and consumed by the next wait.
    let pending = false;
    let resolveWait: (() => void) | undefined;
    const waiter: Waiter = {
      slugs: new Set(slugs),
      wake: () => {
        if (resolveWait) resolveWait();
        else pending = true;
      },
    };
    this.waiters.add(waiter);
    return {
      wait: (timeoutMs, signal) =>
        new Promise<void>((resolve) => {
          if (pending || signal?.aborted) {
            pending = false;
            return resolve();
          }
          const done = () => {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolveWait = undefined;
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          signal?.addEventListener("abort", done, { once: true });
          resolveWait = done;
        }),
      cancel: () => {
        this.waiters.delete(waiter);
      },
    };
  }
}

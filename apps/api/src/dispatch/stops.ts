import { IN_FLIGHT_STATUSES, type TStopTask } from "@ops/contract";
import { type Db, literalList, type OpsDatabase, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import type { Logger } from "pino";
import { STOP_CHANNEL } from "../domain/cancel-task.ts";


/**
 * The running tasks a worker must stop, and why: its in-flight tasks whose
 * cancel was requested, and the tasks it says it runs that it no longer holds
 * (the watchdog took them back, a person moved them on). A task outside a
 * worker token's pool (or gone) gets no detail: the worker learns nothing of
 * other workspaces' tasks. The heartbeat answers the same list.
 */
export async function tasksToStop(db: Db, workerId: string, runningTaskIds: readonly number[], pool: readonly number[] | null = null): Promise<TStopTask[]> {
  const listed = runningTaskIds.length ? sql.raw(`(${runningTaskIds.map(Number).join(",")})`) : sql.raw("(null)");
  const rows = await queryRows<{ id: number; workspace_id: number; status: string; claimed_by: string | null; held: boolean; cancelled: boolean }>(
    db,
    sql`select id, workspace_id, status, claimed_by, claimed_by = ${workerId} and status in ${literalList(IN_FLIGHT_STATUSES)} as held,
               cancel_requested_at is not null as cancelled
        from tasks
        where id in ${listed}
           or (claimed_by = ${workerId} and status in ${literalList(IN_FLIGHT_STATUSES)} and cancel_requested_at is not null)`,
  );
  const byId = new Map(rows.map((r) => [Number(r.id), r]));
  const ids = [...new Set([...runningTaskIds.map(Number), ...byId.keys()])];
  return ids.flatMap((id): TStopTask[] => {
    const r = byId.get(id);
    const visible = r !== undefined && (pool === null || pool.includes(Number(r.workspace_id)));
    if (!visible) return [{ id, code: "not_held", reason: "task no longer held by this worker" }];
    if (r.held && r.cancelled) return [{ id, code: "cancelled", reason: "cancelled by operator" }];
    if (r.held) return [];
    return [{ id, code: "not_held", reason: `task no longer held by this worker (now ${r.status}, held by ${r.claimed_by ?? "nobody"})` }];
  });
}

/**
 * POST /dispatch/stops: answers at once when something must stop, otherwise
 * parks until a cancel for this worker is NOTIFYed (from any API instance) or
 * `waitMs` passes. One query when the poll starts and one per wake-up: a
 * parked launcher costs the database nothing, and a cancel reaches it within
 * the NOTIFY's round trip. (A NOTIFY missed while the listener reconnects is
 * caught by the next poll or the heartbeat's stop list.)
 */
export async function waitForStops(
  db: Db,
  wakeup: StopWakeup,
  request: { workerId: string; runningTaskIds: readonly number[]; waitMs: number },
  signal: AbortSignal,
): Promise<{ stop_tasks: TStopTask[] }> {
  const deadline = Date.now() + request.waitMs;
  const subscription = request.waitMs > 0 ? wakeup.subscribe(request.workerId) : undefined;
  try {
    for (;;) {
      const stops = await tasksToStop(db, request.workerId, request.runningTaskIds);
      const remaining = deadline - Date.now();
      if (stops.length > 0 || !subscription || remaining <= 0 || signal.aborted) return { stop_tasks: stops };
      await subscription.wait(remaining, signal);
    }
  } finally {
    subscription?.cancel();
  }
}

/** The stop long-polls parked on this API instance, by worker, woken by STOP_CHANNEL. */
export class StopWakeup {
  private readonly waiters = new Map<string, Set<() => void>>();
  private unlisten: (() => Promise<void>) | undefined;

  constructor(
    private readonly database: OpsDatabase,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    try {
      this.unlisten = await this.database.listen(STOP_CHANNEL, (workerId) => this.notify(workerId));
    } catch (err) {
      this.log.warn({ err }, "LISTEN unavailable; cancels reach launchers with their next poll or heartbeat");
    }
  }

  async stop(): Promise<void> {
    for (const set of this.waiters.values()) for (const wake of set) wake();
    await this.unlisten?.().catch(() => {});
  }

  notify(workerId: string): void {
    for (const wake of this.waiters.get(workerId) ?? []) wake();
  }

  /** Registered before the caller's first query, so a cancel between that query and the wait is not missed. */
  subscribe(workerId: string): { wait(timeoutMs: number, signal: AbortSignal): Promise<void>; cancel(): void } {
    let pending = false;
    let resolveWait: (() => void) | undefined;
    const wake = () => {
      if (resolveWait) resolveWait();
      else pending = true;
    };
    const set = this.waiters.get(workerId) ?? new Set();
    set.add(wake);
    this.waiters.set(workerId, set);
    return {
      wait: (timeoutMs, signal) =>
        new Promise<void>((resolve) => {
          if (pending || signal.aborted) {
            pending = false;
            return resolve();
          }
          const done = () => {
            clearTimeout(timer);
            signal.removeEventListener("abort", done);
            resolveWait = undefined;
            resolve();
          };
          const timer = setTimeout(done, timeoutMs);
          signal.addEventListener("abort", done, { once: true });
          resolveWait = done;
        }),
      cancel: () => {
        set.delete(wake);
        if (set.size === 0 && this.waiters.get(workerId) === set) this.waiters.delete(workerId);
      },
    };
  }
}

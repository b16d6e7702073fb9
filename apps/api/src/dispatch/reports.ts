import type { TTask } from "@ops/contract";
import { type Db, type DbOrTx, taskComments, taskContext, tasks, timeLogs } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import { audit } from "../domain/audit.ts";
import { notFound, OpsError } from "../domain/errors.ts";
import { toTaskDto } from "../domain/serialize.ts";
import { readDispatchSettings } from "../domain/settings.ts";
import { findTask, loadTask, revokeTaskTokens, type TaskWithAgent } from "../domain/tasks.ts";
import { blockAfterFailure, minutesOf } from "./failure.ts";

export interface ClaimFence {
  id: number;
  worker_id: string;
  attempt: number;
}

/**
 * Loads and locks the task if, and only if, this worker still holds this claim
 * attempt and the task is in flight. Anything else is STALE_CLAIM and changes
 * nothing: the watchdog, a cancel or another worker got there first.
 */
async function lockFencedTask(tx: DbOrTx, fence: ClaimFence, statuses: readonly string[]): Promise<TaskWithAgent> {
  const task = await findTask(tx, fence.id, true);
  if (!task) throw notFound(`task ${fence.id}`);
  if (task.claimedBy !== fence.worker_id || task.claimAttempt !== fence.attempt || !statuses.includes(task.status)) {
    throw new OpsError(
      "STALE_CLAIM",
      `worker ${fence.worker_id} no longer holds attempt ${fence.attempt} of task ${fence.id} (now ${task.status}, attempt ${task.claimAttempt}, held by ${task.claimedBy ?? "nobody"})`,
    );
  }
  return task;
}

export async function reportStarted(
  db: Db,
  input: ClaimFence & { pid: number; command: string[]; log_path: string; err_log_path: string },
): Promise<TTask> {
  return db.transaction(async (tx) => {
    await lockFencedTask(tx, input, ["dispatching"]);
    const output = {
      worker_id: input.worker_id,
      attempt: input.attempt,
      pid: input.pid,
      command: input.command,
      log_path: input.log_path,
      err_log_path: input.err_log_path,
      started_at: new Date().toISOString(),
    };
    await tx
      .update(tasks)
      .set({ status: "doing", startedAt: new Date(), dispatchOutput: output, updatedAt: new Date() })
      .where(eq(tasks.id, input.id));
    await tx.insert(taskComments).values({
      taskId: input.id,
      author: `launcher:${input.worker_id}`,
      kind: "ai-dispatch-log",
      body: `Launched pid ${input.pid} on ${input.worker_id} (attempt ${input.attempt}). Logs: ${input.log_path}, ${input.err_log_path}`,
    });
    return toTaskDto(await loadTask(tx, input.id));
  });
}

export async function reportFailed(
  db: Db,
  input: ClaimFence & {
    reason: string;
    evidence?: string | undefined;
    exit_code?: number | null | undefined;
    signal?: string | null | undefined;
    duration_ms?: number | undefined;
    ai_minutes?: number | undefined;
  },
): Promise<TTask> {
  const settings = await readDispatchSettings(db);
  return db.transaction(async (tx) => {
    const task = await lockFencedTask(tx, input, ["dispatching", "doing"]);
    await blockAfterFailure(tx, task, {
      reason: input.reason,
      evidence: input.evidence,
      source: "launcher",
      alertKind: "dispatch_failed",
      aiMinutes: input.ai_minutes ?? minutesOf(input.duration_ms),
      dispatchOutput: {
        error: input.reason,
        exit_code: input.exit_code ?? null,
        signal: input.signal ?? null,
        ...(input.duration_ms !== undefined ? { duration_ms: input.duration_ms } : {}),
      },
      failureAlertThreshold: settings.failureAlertThreshold,
    });
    await audit(tx, {
      actor: `worker:${input.worker_id}`,
      action: "dispatch.failed",
      targetType: "task",
      targetId: input.id,
      details: { reason: input.reason, attempt: input.attempt },
    });
    return toTaskDto(await loadTask(tx, input.id));
  });
}

export async function reportFinished(
  db: Db,
  input: ClaimFence & {
    exit_code: number;
    duration_ms: number;
    log_path?: string | undefined;
    err_log_path?: string | undefined;
    ai_minutes?: number | undefined;
  },
): Promise<TTask> {
  if (input.exit_code !== 0) {
    throw new OpsError("VALIDATION", "a non-zero exit is a failure: report it to /failed with the reason", "exit_code");
  }
  return db.transaction(async (tx) => {
    const task = await lockFencedTask(tx, input, ["dispatching", "doing"]);
    const seconds = (input.duration_ms / 1000).toFixed(1);
    await tx
      .update(tasks)
      .set({
        status: "review",
        finishedAt: new Date(),
        cancelRequestedAt: null,
        dispatchOutput: sql`coalesce(${tasks.dispatchOutput}, '{}'::jsonb) || ${JSON.stringify({ exit_code: 0, duration_ms: input.duration_ms })}::jsonb`,
        updatedAt: new Date(),
      })
      .where(eq(tasks.id, input.id));
    await tx.insert(taskContext).values({
      taskId: input.id,
      kind: "checkpoint",
      source: "launcher",
      author: `launcher:${input.worker_id}`,
      body: `Launcher checkpoint: exit code 0 after ${seconds}s on ${input.worker_id} (attempt ${input.attempt}).${
        input.log_path ? `\nLog: ${input.log_path}` : ""
      }${input.err_log_path ? `\nErrors: ${input.err_log_path}` : ""}`,
    });
    await tx.insert(timeLogs).values({
      taskId: input.id,
      source: "ai",
      minutes: input.ai_minutes ?? minutesOf(input.duration_ms),
      note: `launcher: ${task.agentSlug ?? "agent"} run`,
      author: `launcher:${input.worker_id}`,
    });
    await revokeTaskTokens(tx, input.id);
    return toTaskDto(await loadTask(tx, input.id));
  });
}

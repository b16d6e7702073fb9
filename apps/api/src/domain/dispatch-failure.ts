import { type DbOrTx, taskContext, tasks, timeLogs } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import { type AlertKind, raiseTaskAlert } from "./alerts.ts";
import { revokeTaskTokens, type TaskWithAgent } from "./task-rows.ts";

export interface FailureReport {
  reason: string;
  evidence?: string | undefined;
  source: "launcher" | "system";
  alertKind: Extract<AlertKind, "dispatch_stale" | "dispatch_failed">;
  aiMinutes?: number | undefined;
  dispatchOutput?: Record<string, unknown> | undefined;
  failureAlertThreshold: number;
}

/**
 * Runbook section 3's required actions, in one place for the launcher's
 * failure reports and the watchdog: the task goes to waiting, blocked with the
 * concrete reason, its claim cleared, a blocker entry with the evidence, its
 * alert (re)opened, AI time logged. A task that keeps failing also raises a
 * recurring-failure alert and a triage task for a human. The caller holds the
 * task's row lock.
 */
export async function blockAfterFailure(tx: DbOrTx, task: TaskWithAgent, report: FailureReport): Promise<void> {
  const failures = task.failureCount + 1;
  await tx
    .update(tasks)
    .set({
      status: "waiting",
      blocked: true,
      blockedReason: report.reason,
      claimedBy: null,
      claimedAt: null,
      cancelRequestedAt: null,
      finishedAt: new Date(),
      failureCount: failures,
      ...(report.dispatchOutput
        ? { dispatchOutput: sql`coalesce(${tasks.dispatchOutput}, '{}'::jsonb) || ${JSON.stringify(report.dispatchOutput)}::jsonb` }
        : {}),
      updatedAt: new Date(),
    })
    .where(eq(tasks.id, task.id));
  await tx.insert(taskContext).values({
    taskId: task.id,
    kind: "blocker",
    source: report.source,
    body: report.evidence ? `${report.reason}\n\n${report.evidence}` : report.reason,
  });
  if (report.aiMinutes !== undefined && report.aiMinutes > 0) {
    await tx.insert(timeLogs).values({ taskId: task.id, source: "ai", minutes: report.aiMinutes, note: "launcher: failed run", author: "launcher" });
  }
  await revokeTaskTokens(tx, task.id);
  await raiseTaskAlert(tx, {
    workspaceId: task.workspaceId,
    taskId: task.id,
    kind: report.alertKind,
    message: `Task #${task.id} "${task.title}": ${report.reason}`,
  });
  if (failures >= report.failureAlertThreshold) {
    const recurring = await raiseTaskAlert(tx, {
      workspaceId: task.workspaceId,
      taskId: task.id,
      kind: "recurring_failure",
      message: `Task #${task.id} "${task.title}" has failed ${failures} times; last: ${report.reason}`,
    });
    if (recurring.newlyOpen) {
      await tx.insert(tasks).values({
        workspaceId: task.workspaceId,
        title: `Triage: task #${task.id} keeps failing (${failures}×)`,
        description: `Task #${task.id} "${task.title}" has failed or gone stale ${failures} times.\nLast reason: ${report.reason}\n\nReview its blockers and logs before dispatching it again.`,
        execution: "manual",
        status: "next",
        priority: 10,
        createdBy: "system:watchdog",
      });
    }
  }
}

/** Whole minutes for a run, at least one: runbook 3 asks for AI time on every outcome. */
export const minutesOf = (durationMs: number | undefined) =>
  durationMs === undefined ? 1 : Math.max(1, Math.ceil(durationMs / 60_000));

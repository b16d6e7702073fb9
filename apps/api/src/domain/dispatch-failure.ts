import { AGENT_OUTPUT_KIND } from "@ops/contract";
import { type DbOrTx, queryRows, taskContext, tasks, timeLogs } from "@ops/db";
import { type SQL, sql } from "drizzle-orm";
import { type AlertKind, raiseTaskAlert } from "./alerts.ts";
import { voidApproval } from "./human-gate.ts";
import { revokeTaskTokens, type TaskWithAgent, taskFromRaw } from "./task-rows.ts";

export interface FailureReport {
  reason: string;
  evidence?: string | undefined;
  /** What the agent's process printed: an entry of its own, as agent output, never in the launcher's words. */
  agentOutput?: string | undefined;
  /** Who reports it (`worker:<id>`, `system:watchdog`), for the entries it writes. */
  actor: string;
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
 * recurring-failure alert and a triage task for a human.
 *
 * `where` selects the task in its UPDATE: the claim fence of a launcher report,
 * or the id of a task the watchdog holds locked. Nothing is written and
 * undefined returned when it matches nothing; otherwise the task as it now is.
 */
export async function blockAfterFailure(tx: DbOrTx, where: SQL, report: FailureReport): Promise<TaskWithAgent | undefined> {
  const output = report.dispatchOutput
    ? sql`coalesce(dispatch_output, '{}'::jsonb) || ${JSON.stringify(report.dispatchOutput)}::jsonb`
    : sql`dispatch_output`;
  const [row] = await queryRows<Record<string, unknown>>(
    tx,
    sql`update tasks set status = 'waiting', blocked = true, blocked_reason = ${report.reason}, claimed_by = null,
               claimed_at = null, cancel_requested_at = null, finished_at = now(), failure_count = failure_count + 1,
               dispatch_output = ${output}, updated_at = now()
        where ${where}
        returning tasks.*, (select slug from agents a where a.id = tasks.agent_id) as agent_slug`,
  );
  if (!row) return undefined;
  const task = taskFromRaw(row);
  await tx.insert(taskContext).values({
    taskId: task.id,
    kind: "blocker",
    source: report.source,
    body: report.evidence ? `${report.reason}\n\n${report.evidence}` : report.reason,
  });
  if (report.agentOutput) {
    await tx.insert(taskContext).values({ taskId: task.id, kind: AGENT_OUTPUT_KIND, source: "ai", author: report.actor, body: report.agentOutput });
    // The next attempt's prompt carries it: an approval given before it was written does not cover it.
    await voidApproval(tx, report.actor, task, ["agent output"], null);
  }
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
  const failures = task.failureCount;
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
  return task;
}

/** Whole minutes for a run, at least one: runbook 3 asks for AI time on every outcome. */
export const minutesOf = (durationMs: number | undefined) =>
  durationMs === undefined ? 1 : Math.max(1, Math.ceil(durationMs / 60_000));

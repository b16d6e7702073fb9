import { AGENT_OUTPUT_KIND } from "@ops/contract";
import { type DbOrTx, taskComments, taskContext } from "@ops/db";
import { and, eq, inArray, ne, notInArray } from "drizzle-orm";
import { OpsError } from "../errors.ts";

/**
 * Runbook 3.2: an AI task (one with an agent) reaches done only with visible
 * output evidence — a context entry other than the launcher's own bookkeeping,
 * or a comment other than an ai-dispatch-log comment.
 *
 * Entries the machinery writes by itself (launcher checkpoints and launcher or
 * system blockers) are not evidence: they prove a process ran, not that it
 * delivered anything. Nor is the output a failed run printed.
 */
export async function hasVisibleEvidence(db: DbOrTx, taskId: number): Promise<boolean> {
  const [entry] = await db
    .select({ id: taskContext.id })
    .from(taskContext)
    .where(
      and(
        eq(taskContext.taskId, taskId),
        notInArray(taskContext.source, ["launcher", "system"]),
        ne(taskContext.kind, AGENT_OUTPUT_KIND),
      ),
    )
    .limit(1);
  if (entry) return true;
  const [comment] = await db
    .select({ id: taskComments.id })
    .from(taskComments)
    .where(and(eq(taskComments.taskId, taskId), inArray(taskComments.kind, ["user"])))
    .limit(1);
  return comment !== undefined;
}

/** Throws DONE_GUARD unless the task may move to done; returns true when force was needed. */
export async function assertDoneAllowed(
  db: DbOrTx,
  task: { id: number; agentId: number | null },
  force: boolean,
): Promise<boolean> {
  if (task.agentId === null) return false;
  if (await hasVisibleEvidence(db, task.id)) return false;
  if (force) return true;
  throw new OpsError(
    "DONE_GUARD",
    "AI task has no visible deliverable: add a context entry (not a launcher checkpoint) or a comment (not an ai-dispatch log) before moving it to done, or use ?force=true as admin",
  );
}

import type { TTask } from "@ops/contract";
import { type Db, type DbOrTx, type TaskRow, taskContext, tasks } from "@ops/db";
import { eq } from "drizzle-orm";
import { actorName, assertTaskAccess, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { OpsError } from "../errors.ts";
import { toTaskDto } from "./serialize.ts";
import { loadTask, type TaskWithAgent } from "./task-rows.ts";

// The Human Gate: a sensitive task is dispatched only after an admin approved it.

export const HUMAN_GATE_REASON = "Human Gate: sensitive task needs approval by an admin before dispatch";

export const awaitsApproval = (task: Pick<TaskWithAgent, "sensitive" | "approvedAt">) => task.sensitive && !task.approvedAt;

export const humanGateRefusal = () => new OpsError("HUMAN_GATE", HUMAN_GATE_REASON);

/**
 * Marks a locked task as held: blocked with the gate's reason, a blocker entry
 * and an audit entry — once, however often dispatch is asked for. The caller
 * commits this and then answers HUMAN_GATE: the mark stays although the
 * dispatch is refused.
 */
export async function holdAtHumanGate(tx: DbOrTx, principal: Principal, task: TaskWithAgent, ip: string | null): Promise<void> {
  if (task.blocked && task.blockedReason === HUMAN_GATE_REASON) return;
  await tx
    .update(tasks)
    .set({ blocked: true, blockedReason: HUMAN_GATE_REASON, updatedAt: new Date() })
    .where(eq(tasks.id, task.id));
  await tx.insert(taskContext).values({
    taskId: task.id,
    kind: "blocker",
    source: "system",
    body: `${HUMAN_GATE_REASON}. Dispatch requested by ${actorName(principal)}.`,
  });
  await audit(tx, { actor: actorName(principal), action: "dispatch.human_gate_held", targetType: "task", targetId: task.id, ip });
}

/**
 * What the agent will do, as the approver saw it: a change to any of these
 * after the approval voids it (and so does context a person or an agent adds,
 * since the next attempt's prompt carries it).
 */
const GATED_COLUMNS = { title: "title", description: "description", workingDir: "working_dir", agentId: "agent", model: "model" } as const;

/** The gated fields an edit changes on an approved sensitive task: the reasons its approval is void. */
export function approvalVoidedBy(task: TaskRow, set: Partial<TaskRow>): string[] {
  if (!task.sensitive || !task.approvedAt || set.sensitive === false) return [];
  return Object.entries(GATED_COLUMNS)
    .filter(([column]) => column in set && set[column as keyof TaskRow] !== task[column as keyof TaskRow])
    .map(([, field]) => field);
}

/** The columns that void an approval; a queued task is held by the gate again, so no launcher claims it. */
export function voidedApprovalColumns(task: Pick<TaskRow, "status">): Partial<TaskRow> {
  return {
    approvedAt: null,
    approvedBy: null,
    ...(task.status === "queued" ? { blocked: true, blockedReason: HUMAN_GATE_REASON } : {}),
  };
}

/** Says so in the task's history: a system entry and an audit entry naming what changed and whose approval it voided. */
export async function recordApprovalVoided(
  tx: DbOrTx,
  actor: string,
  task: Pick<TaskRow, "id" | "approvedBy">,
  changed: string[],
  ip: string | null,
): Promise<void> {
  const what = changed.join(", ");
  await tx.insert(taskContext).values({
    taskId: task.id,
    kind: "note",
    source: "system",
    body: `Human Gate: the approval by ${task.approvedBy ?? "an admin"} no longer holds (${what} changed by ${actor} after it); an admin must approve the task again before it is dispatched.`,
  });
  await audit(tx, {
    actor,
    action: "dispatch.human_gate_approval_voided",
    targetType: "task",
    targetId: task.id,
    details: { changed, approved_by: task.approvedBy },
    ip,
  });
}

/** Voids the approval of a locked task, when it has one, because of `changed`. */
export async function voidApproval(tx: DbOrTx, actor: string, task: TaskRow, changed: string[], ip: string | null): Promise<void> {
  if (!task.sensitive || !task.approvedAt) return;
  await tx.update(tasks).set({ ...voidedApprovalColumns(task), updatedAt: new Date() }).where(eq(tasks.id, task.id));
  await recordApprovalVoided(tx, actor, task, changed, ip);
}

/** Human Gate release: an admin approves a sensitive task; its gate block is lifted. */
export async function approveTask(db: Db, principal: Principal, id: number, ip: string | null): Promise<TTask> {
  return db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, "admin");
    if (!task.sensitive) throw new OpsError("BAD_STATUS", `task ${id} is not sensitive; it needs no approval`);
    await tx
      .update(tasks)
      .set({
        approvedAt: task.approvedAt ?? new Date(),
        approvedBy: task.approvedBy ?? actorName(principal),
        ...(task.blockedReason === HUMAN_GATE_REASON ? { blocked: false, blockedReason: null } : {}),
        updatedAt: new Date(),
      })
      .where(eq(tasks.id, id));
    await audit(tx, { actor: actorName(principal), action: "dispatch.human_gate_approved", targetType: "task", targetId: id, ip });
    return toTaskDto(await loadTask(tx, id));
  });
}

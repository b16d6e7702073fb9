import { type Contract, IN_FLIGHT_STATUSES, isStatusIn, type ProcedureInput, type TTask, type TTaskStatus } from "@ops/contract";
import { type Db, type DbOrTx, tasks } from "@ops/db";
import { eq } from "drizzle-orm";
import { actorName, assertTaskAccess, isAdminCaller, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { OpsError } from "../errors.ts";
import { assertDoneAllowed } from "./done-guard.ts";
import { queueTask } from "./queue-task.ts";
import { toTaskDto } from "./serialize.ts";
import { loadTask, revokeTaskTokens, type TaskWithAgent } from "./task-rows.ts";

export type StatusChange = ProcedureInput<Contract["tasks"]["setStatus"]>;

/** Who may ask for which move, checked before any row is read. */
export function assertMayRequestStatus(principal: Principal, status: TTaskStatus, force: boolean): void {
  if (force && !isAdminCaller(principal)) {
    throw new OpsError("FORBIDDEN", "force=true is for admins and the service token only");
  }
  if (status === "queued") return;
  if (isStatusIn(IN_FLIGHT_STATUSES, status)) {
    throw new OpsError("BAD_STATUS", `only a launcher moves tasks to ${status}; dispatch the task instead`);
  }
  if (principal.kind === "agent" && status !== "review") {
    throw new OpsError("FORBIDDEN", "an agent token may only move its task to review");
  }
}

/**
 * Moves a task the caller holds locked to any status but queued (which goes
 * through the queue's rules): the AI done guard, and a task taken out of
 * flight by hand loses its claim.
 */
export async function moveLockedTask(
  tx: DbOrTx,
  principal: Principal,
  task: TaskWithAgent,
  status: TTaskStatus,
  force: boolean,
  ip: string | null,
): Promise<TTask> {
  if (status === "done" && task.status !== "done") {
    const forced = await assertDoneAllowed(tx, task, force);
    if (forced) {
      await audit(tx, { actor: actorName(principal), action: "task.done_forced", targetType: "task", targetId: task.id, ip });
    }
  }
  const leavingFlight = isStatusIn(IN_FLIGHT_STATUSES, task.status) && !isStatusIn(IN_FLIGHT_STATUSES, status);
  await tx
    .update(tasks)
    .set({
      status,
      updatedAt: new Date(),
      ...(status === "done" || status === "review" ? { finishedAt: task.finishedAt ?? new Date() } : {}),
      // A task taken out of flight by hand loses its claim: late launcher reports are refused.
      ...(leavingFlight ? { claimedBy: null, claimedAt: null } : {}),
    })
    .where(eq(tasks.id, task.id));
  if (leavingFlight) await revokeTaskTokens(tx, task.id);
  await audit(tx, {
    actor: actorName(principal),
    action: "task.status_changed",
    targetType: "task",
    targetId: task.id,
    details: { from: task.status, to: status, ...(force ? { force: true } : {}) },
    ip,
  });
  return toTaskDto(await loadTask(tx, task.id));
}

/** PATCH /tasks/:id/status. */
export async function changeStatus(db: Db, principal: Principal, input: StatusChange, ip: string | null): Promise<TTask> {
  const { id, status } = input;
  const force = input.force === true;
  assertMayRequestStatus(principal, status, force);
  if (status === "queued") return queueTask(db, principal, id, ip);
  return db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, force ? "admin" : "member");
    return moveLockedTask(tx, principal, task, status, force, ip);
  });
}

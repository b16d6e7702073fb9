import { type Contract, IN_FLIGHT_STATUSES, isStatusIn, type ProcedureInput, type TTask } from "@ops/contract";
import { agents, type Db, type DbOrTx, tasks } from "@ops/db";
import { and, count, desc, eq, ilike, isNull, or, type SQL, sql } from "drizzle-orm";
import { actorName, assertTaskAccess, assertWorkspaceRole, hasWorkspaceRole, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { forbidden, invalid, OpsError } from "../errors.ts";
import { toTaskDto } from "./serialize.ts";
import {
  approvalVoidedBy,
  awaitsApproval,
  holdAtHumanGate,
  humanGateRefusal,
  recordApprovalVoided,
  voidedApprovalColumns,
} from "./human-gate.ts";
import { checkQueueable, moveToQueue } from "./queue-task.ts";
import { loadTask, type TaskWithAgent, taskColumns } from "./task-rows.ts";
import { assertMayRequestStatus, moveLockedTask } from "./task-status.ts";

export type TaskFilter = ProcedureInput<Contract["tasks"]["list"]>;

export async function listTasks(db: Db, principal: Principal, filter: TaskFilter) {
  const workspaceId = filter.workspace_id ?? 1;
  assertWorkspaceRole(principal, workspaceId, "member");
  const conditions: SQL[] = [eq(tasks.workspaceId, workspaceId)];
  if (!filter.include_archived) conditions.push(isNull(tasks.archivedAt));
  if (filter.status) conditions.push(eq(tasks.status, filter.status));
  if (filter.agent_id) conditions.push(eq(tasks.agentId, filter.agent_id));
  if (filter.blocked !== undefined) conditions.push(eq(tasks.blocked, filter.blocked));
  if (filter.search) {
    const pattern = `%${filter.search.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
    conditions.push(or(ilike(tasks.title, pattern), ilike(tasks.description, pattern))!);
  }
  const where = and(...conditions);
  const rows = await db
    .select(taskColumns)
    .from(tasks)
    .leftJoin(agents, eq(agents.id, tasks.agentId))
    .where(where)
    .orderBy(desc(tasks.id))
    .limit(filter.limit)
    .offset(filter.offset);
  const [total] = await db.select({ n: count() }).from(tasks).where(where);
  return { tasks: rows.map(toTaskDto), total: total?.n ?? 0 };
}

/** Resolves `agent_id` or `agent_slug` to an agent of the task's workspace. */
async function resolveAgentId(
  db: DbOrTx,
  workspaceId: number,
  input: { agent_id?: number | null | undefined; agent_slug?: string | undefined },
): Promise<number | null | undefined> {
  if (input.agent_slug !== undefined) {
    const [agent] = await db
      .select({ id: agents.id })
      .from(agents)
      .where(and(eq(agents.workspaceId, workspaceId), eq(agents.slug, input.agent_slug)));
    if (!agent) throw invalid("agent_slug", `no agent "${input.agent_slug}" in workspace ${workspaceId}`);
    return agent.id;
  }
  if (input.agent_id === undefined || input.agent_id === null) return input.agent_id;
  const [agent] = await db
    .select({ id: agents.id })
    .from(agents)
    .where(and(eq(agents.workspaceId, workspaceId), eq(agents.id, input.agent_id)));
  if (!agent) throw invalid("agent_id", `no agent ${input.agent_id} in workspace ${workspaceId}`);
  return agent.id;
}

export type CreateTaskInput = ProcedureInput<Contract["tasks"]["create"]>;

export async function createTask(db: Db, principal: Principal, input: CreateTaskInput, ip: string | null): Promise<TTask> {
  const workspaceId = input.workspace_id ?? 1;
  assertWorkspaceRole(principal, workspaceId, "member");
  return db.transaction(async (tx) => {
    const agentId = await resolveAgentId(tx, workspaceId, input);
    const [row] = await tx
      .insert(tasks)
      .values({
        workspaceId,
        title: input.title,
        description: input.description ?? "",
        execution: input.execution ?? "manual",
        agentId: agentId ?? null,
        model: input.model ?? null,
        priority: input.priority ?? 0,
        sensitive: input.sensitive ?? false,
        workingDir: input.working_dir ?? null,
        status: input.status ?? "backlog",
        createdBy: actorName(principal),
      })
      .returning({ id: tasks.id });
    await audit(tx, { actor: actorName(principal), action: "task.created", targetType: "task", targetId: row!.id, ip });
    return toTaskDto(await loadTask(tx, row!.id));
  });
}

export type UpdateTaskInput = ProcedureInput<Contract["tasks"]["update"]>;
type TaskFields = Omit<UpdateTaskInput, "id" | "status" | "force">;
type TaskEdits = Partial<typeof tasks.$inferInsert>;

/** The column changes a PATCH asks for, checked against the task as stored (locked). */
async function editsFor(tx: DbOrTx, task: TaskWithAgent, fields: TaskFields): Promise<TaskEdits> {
  const set: TaskEdits = {};
  if (fields.title !== undefined) set.title = fields.title;
  if (fields.description !== undefined) set.description = fields.description;
  if (fields.execution !== undefined) set.execution = fields.execution;
  if (fields.model !== undefined) set.model = fields.model;
  if (fields.priority !== undefined) set.priority = fields.priority;
  if (fields.working_dir !== undefined) set.workingDir = fields.working_dir;
  if (fields.sensitive !== undefined && fields.sensitive !== task.sensitive) {
    set.sensitive = fields.sensitive;
    // Re-marking a task sensitive needs a fresh approval.
    set.approvedAt = null;
    set.approvedBy = null;
  }
  if (fields.agent_id !== undefined || fields.agent_slug !== undefined) {
    if (isStatusIn(IN_FLIGHT_STATUSES, task.status)) {
      throw new OpsError("BAD_STATUS", `cannot change the agent of a task in ${task.status}`);
    }
    set.agentId = (await resolveAgentId(tx, task.workspaceId, fields)) ?? null;
  }
  if (fields.blocked !== undefined) {
    set.blocked = fields.blocked;
    set.blockedReason = fields.blocked ? (fields.blocked_reason ?? task.blockedReason ?? "blocked by operator") : null;
  } else if (fields.blocked_reason !== undefined) {
    set.blockedReason = fields.blocked_reason;
  }
  return set;
}

/**
 * PATCH /tasks/:id: field changes and a status move, in one transaction. The
 * move goes through the same rules as PATCH /tasks/:id/status (the AI done
 * guard, the queue and its Human Gate) applied to the edited task, and a
 * refused move leaves the fields as they were. Only the Human Gate's mark on a
 * task that already awaited approval stays, as it does for POST /dispatch.
 */
export async function updateTask(db: Db, principal: Principal, input: UpdateTaskInput, ip: string | null): Promise<TTask> {
  const { id, status, ...rest } = input;
  const { force: forceFlag, ...fields } = rest;
  const force = forceFlag === true;
  if (principal.kind === "agent" && Object.values(fields).some((v) => v !== undefined)) {
    throw new OpsError("FORBIDDEN", "an agent token may only change its task's status");
  }
  if (status !== undefined) assertMayRequestStatus(principal, status, force);
  const outcome = await db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, force && status !== undefined && status !== "queued" ? "admin" : "member");
    // Clearing sensitive lifts the Human Gate: an admin's call. Marking a task sensitive only adds the gate.
    if (fields.sensitive === false && task.sensitive && !hasWorkspaceRole(principal, task.workspaceId, "admin")) {
      throw forbidden("only a workspace admin may clear sensitive: it lifts the Human Gate", "sensitive");
    }
    const set = await editsFor(tx, task, fields);
    const voided = approvalVoidedBy(task, set);
    if (voided.length > 0) Object.assign(set, voidedApprovalColumns(task));
    const edited: TaskWithAgent = { ...task, ...(set as Partial<TaskWithAgent>) };
    // The queue's rules only read: decided before anything is written.
    const queueFor = status === "queued" ? await checkQueueable(tx, edited) : undefined;
    if (queueFor === "held") {
      if (awaitsApproval(task)) await holdAtHumanGate(tx, principal, task, ip);
      return "held" as const;
    }
    if (Object.keys(set).length > 0) {
      await tx.update(tasks).set({ ...set, updatedAt: new Date() }).where(eq(tasks.id, id));
      await audit(tx, {
        actor: actorName(principal),
        action: "task.updated",
        targetType: "task",
        targetId: id,
        details: { fields: Object.keys(set) },
        ip,
      });
    }
    if (voided.length > 0) await recordApprovalVoided(tx, actorName(principal), task, voided, ip);
    if (queueFor) return moveToQueue(tx, principal, id, queueFor, ip);
    if (status !== undefined) return moveLockedTask(tx, principal, edited, status, force, ip);
    return toTaskDto(Object.keys(set).length > 0 ? await loadTask(tx, id) : task);
  });
  if (outcome === "held") throw humanGateRefusal();
  return outcome;
}

export async function archiveTask(db: Db, principal: Principal, id: number, ip: string | null): Promise<TTask> {
  return db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, "member");
    if (isStatusIn(IN_FLIGHT_STATUSES, task.status)) {
      throw new OpsError("BAD_STATUS", `task ${id} is ${task.status}; cancel it before archiving`);
    }
    await tx.update(tasks).set({ archivedAt: sql`coalesce(${tasks.archivedAt}, now())`, updatedAt: new Date() }).where(eq(tasks.id, id));
    await audit(tx, { actor: actorName(principal), action: "task.archived", targetType: "task", targetId: id, ip });
    return toTaskDto(await loadTask(tx, id));
  });
}

export async function deleteTask(db: Db, principal: Principal, id: number, ip: string | null): Promise<void> {
  await db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, "admin");
    await tx.delete(tasks).where(eq(tasks.id, id));
    await audit(tx, {
      actor: actorName(principal),
      action: "task.deleted",
      targetType: "task",
      targetId: id,
      details: { title: task.title },
      ip,
    });
  });
}

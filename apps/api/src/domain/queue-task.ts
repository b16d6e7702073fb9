import { DISPATCHABLE_STATUSES, isStatusIn, type TTask } from "@ops/contract";
import { type AgentRow, agents, type Db, type DbOrTx, queryRows } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import { actorName, assertTaskAccess, type Principal } from "../auth/principal.ts";
import { OpsError } from "../errors.ts";
import { awaitsApproval, holdAtHumanGate, humanGateRefusal } from "./human-gate.ts";
import { toTaskDto } from "./serialize.ts";
import { loadTask, type TaskWithAgent, taskFromRaw } from "./task-rows.ts";

/** NOTIFY channel of a queued task (payload: its agent's slug); dispatch/dispatcher.ts listens on every instance. */
export const QUEUE_CHANNEL = "ops_dispatch_queued";


/**
 * The queue's rules, in the order an operator would check them. Reads only:
 * throws the refusal, answers "held" when only the Human Gate stands in the
 * way, or the agent the task will be queued for.
 */
export async function checkQueueable(
  tx: DbOrTx,
  task: Pick<TaskWithAgent, "id" | "archivedAt" | "execution" | "status" | "agentId" | "sensitive" | "approvedAt" | "blocked" | "blockedReason">,
): Promise<AgentRow | "held"> {
  const id = task.id;
  if (task.archivedAt) throw new OpsError("BAD_STATUS", `task ${id} is archived`);
  if (task.execution !== "interactive") {
    throw new OpsError("NOT_INTERACTIVE", `task ${id} is manual; only execution=interactive tasks are dispatched`);
  }
  if (!isStatusIn(DISPATCHABLE_STATUSES, task.status)) {
    throw new OpsError("BAD_STATUS", `task ${id} is ${task.status}; only ${DISPATCHABLE_STATUSES.join(", ").replace(/, (?=[^,]*$)/, " or ")} tasks can be dispatched`);
  }
  if (task.agentId === null) throw new OpsError("NO_AGENT", `task ${id} has no agent; set agent_id first`);
  const [agent] = await tx.select().from(agents).where(eq(agents.id, task.agentId));
  if (!agent?.active) throw new OpsError("AGENT_INACTIVE", `agent ${agent?.slug ?? task.agentId} is inactive`);
  if (awaitsApproval(task)) return "held";
  if (task.blocked) {
    throw new OpsError("BLOCKED", `task ${id} is blocked (${task.blockedReason ?? "no reason"}); review its blockers and unblock it first`);
  }
  return agent;
}

/**
 * Moves a task that passed `checkQueueable` to queued. One statement: the move,
 * its audit entry and the NOTIFY (delivered on commit: wakes launchers
 * long-polling on any API instance), returning the task as this call left it —
 * read before commit, since a parked worker may claim it as soon as the
 * notification is out. (Measured with `pnpm bench` pickup: four round trips
 * before, one now.)
 */
export async function moveToQueue(tx: DbOrTx, principal: Principal, taskId: number, agent: AgentRow, ip: string | null): Promise<TTask> {
  const [row] = await queryRows<Record<string, unknown>>(
    tx,
    sql`with upd as (
          update tasks set status = 'queued', queued_at = now(), cancel_requested_at = null, updated_at = now()
          where id = ${taskId} returning tasks.*
        ), entry as (
          insert into audit_log (actor, action, target_type, target_id, details, ip)
          values (${actorName(principal)}, 'dispatch.queued', 'task', ${String(taskId)}, '{}'::jsonb, ${ip})
        ), wake as (
          select pg_notify(${QUEUE_CHANNEL}, ${agent.slug})
        )
        select upd.*, (select count(*) from wake) as notified from upd`,
  );
  return toTaskDto({ ...taskFromRaw(row!), agentSlug: agent.slug });
}

/**
 * POST /tasks/:id/dispatch. An interactive task with an active agent moves to
 * queued; a sensitive task without approval is held by the Human Gate (marked
 * blocked with a blocker entry, which stays even though the call is refused).
 */
export async function queueTask(db: Db, principal: Principal, id: number, ip: string | null): Promise<TTask> {
  const outcome = await db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, "member");
    const agent = await checkQueueable(tx, task);
    if (agent !== "held") return moveToQueue(tx, principal, id, agent, ip);
    await holdAtHumanGate(tx, principal, task, ip);
    return "held";
  });
  if (outcome === "held") throw humanGateRefusal();
  return outcome;
}

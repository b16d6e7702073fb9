import type { TTask } from "@ops/contract";
import { agents, type Db, queryRows, taskContext, tasks } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import { actorName, assertTaskAccess, type Principal } from "../auth/principal.ts";
import { audit } from "../domain/audit.ts";
import { OpsError } from "../domain/errors.ts";
import { toTaskDto } from "../domain/serialize.ts";
import { loadTask, revokeTaskTokens } from "../domain/tasks.ts";
import { rowMapper } from "./rows.ts";
import { QUEUE_CHANNEL } from "./wakeup.ts";

const taskRow = rowMapper(tasks);

export const HUMAN_GATE_REASON = "Human Gate: sensitive task needs approval by an admin before dispatch";
const DISPATCHABLE_FROM = new Set(["backlog", "next", "waiting", "review"]);

/**
 * POST /tasks/:id/dispatch. An interactive task with an active agent moves to
 * queued; a sensitive task without approval is held by the Human Gate (marked
 * blocked with a blocker entry, which stays even though the call is refused).
 */
export async function queueTask(db: Db, principal: Principal, id: number, ip: string | null): Promise<TTask> {
  const outcome = await db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, "member");
    if (task.archivedAt) throw new OpsError("BAD_STATUS", `task ${id} is archived`);
    if (task.execution !== "interactive") {
      throw new OpsError("NOT_INTERACTIVE", `task ${id} is manual; only execution=interactive tasks are dispatched`);
    }
    if (!DISPATCHABLE_FROM.has(task.status)) {
      throw new OpsError("BAD_STATUS", `task ${id} is ${task.status}; only backlog, next, waiting or review tasks can be dispatched`);
    }
    if (task.agentId === null) throw new OpsError("NO_AGENT", `task ${id} has no agent; set agent_id first`);
    const [agent] = await tx.select().from(agents).where(eq(agents.id, task.agentId));
    if (!agent?.active) throw new OpsError("AGENT_INACTIVE", `agent ${agent?.slug ?? task.agentId} is inactive`);
    if (task.sensitive && !task.approvedAt) {
      if (!(task.blocked && task.blockedReason === HUMAN_GATE_REASON)) {
        await tx
          .update(tasks)
          .set({ blocked: true, blockedReason: HUMAN_GATE_REASON, updatedAt: new Date() })
          .where(eq(tasks.id, id));
        await tx.insert(taskContext).values({
          taskId: id,
          kind: "blocker",
          source: "system",
          body: `${HUMAN_GATE_REASON}. Dispatch requested by ${actorName(principal)}.`,
        });
        await audit(tx, { actor: actorName(principal), action: "dispatch.human_gate_held", targetType: "task", targetId: id, ip });
      }
      return "held" as const;
    }
    if (task.blocked) {
      throw new OpsError("BLOCKED", `task ${id} is blocked (${task.blockedReason ?? "no reason"}); review its blockers and unblock it first`);
    }
    // One statement: the move to queued, its audit entry and the NOTIFY
    // (delivered on commit: wakes launchers long-polling on any API instance),
    // returning the task as this call left it — read before commit, since a
    // parked worker may claim it as soon as the notification is out.
    // (Measured with `pnpm bench` pickup: four round trips before, one now.)
    const [row] = await queryRows<Record<string, unknown>>(
      tx,
      sql`with upd as (
            update tasks set status = 'queued', queued_at = now(), cancel_requested_at = null, updated_at = now()
            where id = ${id} returning tasks.*
          ), entry as (
            insert into audit_log (actor, action, target_type, target_id, details, ip)
            values (${actorName(principal)}, 'dispatch.queued', 'task', ${String(id)}, '{}'::jsonb, ${ip})
          ), wake as (
            select pg_notify(${QUEUE_CHANNEL}, ${agent.slug})
          )
          select upd.*, (select count(*) from wake) as notified from upd`,
    );
    return toTaskDto({ ...taskRow(row!), agentSlug: agent.slug });
  });
  if (outcome === "held") throw new OpsError("HUMAN_GATE", HUMAN_GATE_REASON);
  return outcome;
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

/**
 * Cancels a dispatch. A queued task leaves the queue at once; a running one is
 * flagged and its launcher, told on its next heartbeat, stops the agent and
 * reports the failure.
 */
export async function cancelTask(db: Db, principal: Principal, id: number, ip: string | null): Promise<TTask> {
  return db.transaction(async (tx) => {
    const task = await loadTask(tx, id, true);
    assertTaskAccess(principal, task, "admin");
    const reason = `cancelled by ${actorName(principal)}`;
    if (task.status === "queued") {
      await tx
        .update(tasks)
        .set({ status: "waiting", blocked: true, blockedReason: reason, updatedAt: new Date() })
        .where(eq(tasks.id, id));
    } else if (task.status === "dispatching" || task.status === "doing") {
      await tx.update(tasks).set({ cancelRequestedAt: new Date(), updatedAt: new Date() }).where(eq(tasks.id, id));
      await revokeTaskTokens(tx, id);
    } else {
      throw new OpsError("BAD_STATUS", `task ${id} is ${task.status}; only queued or running tasks can be cancelled`);
    }
    await audit(tx, { actor: actorName(principal), action: "dispatch.cancelled", targetType: "task", targetId: id, ip });
    return toTaskDto(await loadTask(tx, id));
  });
}

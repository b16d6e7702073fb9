import { IN_FLIGHT_STATUSES, isStatusIn, type TTask } from "@ops/contract";
import { type Db, tasks } from "@ops/db";
import { eq } from "drizzle-orm";
import { actorName, assertTaskAccess, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { OpsError } from "../errors.ts";
import { toTaskDto } from "./serialize.ts";
import { loadTask, revokeTaskTokens } from "./task-rows.ts";

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
    } else if (isStatusIn(IN_FLIGHT_STATUSES, task.status)) {
      await tx.update(tasks).set({ cancelRequestedAt: new Date(), updatedAt: new Date() }).where(eq(tasks.id, id));
      await revokeTaskTokens(tx, id);
    } else {
      throw new OpsError("BAD_STATUS", `task ${id} is ${task.status}; only queued or running tasks can be cancelled`);
    }
    await audit(tx, { actor: actorName(principal), action: "dispatch.cancelled", targetType: "task", targetId: id, ip });
    return toTaskDto(await loadTask(tx, id));
  });
}

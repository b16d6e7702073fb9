import { agents, type DbOrTx, rowMapper, type TaskRow, taskTokens, tasks } from "@ops/db";
import { and, eq, getTableColumns, isNull } from "drizzle-orm";
import { assertTaskAccess, type Principal } from "../auth/principal.ts";
import { notFound } from "../errors.ts";

// Task rows as every task rule reads them: with the agent's slug, locked when
// the caller is about to change them, access-checked for the caller.

export const taskColumns = { ...getTableColumns(tasks), agentSlug: agents.slug };

export type TaskWithAgent = TaskRow & { agentSlug: string | null };

const taskRow = rowMapper(tasks);

/** A raw `tasks.*` row with `agent_slug` (a RETURNING or a `row_to_json`), as the builder would read it. */
export const taskFromRaw = (raw: Record<string, unknown>): TaskWithAgent => ({
  ...taskRow(raw),
  agentSlug: (raw.agent_slug as string | null | undefined) ?? null,
});

export async function findTask(db: DbOrTx, id: number, lock = false): Promise<TaskWithAgent | undefined> {
  const q = db.select(taskColumns).from(tasks).leftJoin(agents, eq(agents.id, tasks.agentId)).where(eq(tasks.id, id));
  const [row] = lock ? await q.for("update", { of: tasks }) : await q;
  return row;
}

export async function loadTask(db: DbOrTx, id: number, lock = false): Promise<TaskWithAgent> {
  const row = await findTask(db, id, lock);
  if (!row) throw notFound(`task ${id}`);
  return row;
}

/** Loads a task the caller may see (another tenant's answers as missing), locked when asked. */
export async function getTaskFor(db: DbOrTx, principal: Principal, id: number, needed: "member" | "admin" = "member", lock = false) {
  const row = await loadTask(db, id, lock);
  assertTaskAccess(principal, row, needed);
  return row;
}

/** Ends the agent credentials of a claim: the task left flight or was cancelled. */
export async function revokeTaskTokens(db: DbOrTx, taskId: number): Promise<void> {
  await db
    .update(taskTokens)
    .set({ revokedAt: new Date() })
    .where(and(eq(taskTokens.taskId, taskId), isNull(taskTokens.revokedAt)));
}

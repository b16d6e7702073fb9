import type { Contract, ProcedureInput } from "@ops/contract";
import { type Db, taskComments, taskContext, timeLogs } from "@ops/db";
import { asc, eq } from "drizzle-orm";
import { actorName, type Principal } from "../auth/principal.ts";
import { OpsError } from "../errors.ts";
import { toCommentDto, toContextDto, toTimeLogDto } from "./serialize.ts";
import { getTaskFor } from "./task-rows.ts";

// Context entries, comments and time logs: what people and agents attach to a task.

/** Who wrote it, as a context source: agents write "ai", people "human". */
function sourceFor(principal: Principal, requested: ProcedureInput<Contract["context"]["add"]>["source"]) {
  if (principal.kind === "agent") return "ai" as const;
  if (principal.kind === "user") return "human" as const;
  return requested ?? "ai";
}

export async function listContext(db: Db, principal: Principal, taskId: number) {
  await getTaskFor(db, principal, taskId);
  const rows = await db.select().from(taskContext).where(eq(taskContext.taskId, taskId)).orderBy(asc(taskContext.id));
  return rows.map(toContextDto);
}

export async function addContext(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["context"]["add"]>,
) {
  await getTaskFor(db, principal, input.task_id);
  const [row] = await db
    .insert(taskContext)
    .values({
      taskId: input.task_id,
      kind: input.kind,
      body: input.body,
      source: sourceFor(principal, input.source),
      author: actorName(principal),
    })
    .returning();
  return toContextDto(row!);
}

export async function listComments(db: Db, principal: Principal, taskId: number) {
  await getTaskFor(db, principal, taskId);
  const rows = await db.select().from(taskComments).where(eq(taskComments.taskId, taskId)).orderBy(asc(taskComments.id));
  return rows.map(toCommentDto);
}

export async function addComment(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["comments"]["add"]>,
) {
  await getTaskFor(db, principal, input.task_id);
  if (input.kind === "ai-dispatch-log" && principal.kind === "user") {
    throw new OpsError("FORBIDDEN", "ai-dispatch-log comments are written by the launcher");
  }
  const [row] = await db
    .insert(taskComments)
    .values({ taskId: input.task_id, body: input.body, kind: input.kind ?? "user", author: actorName(principal) })
    .returning();
  return toCommentDto(row!);
}

export async function listTimeLogs(db: Db, principal: Principal, taskId: number) {
  await getTaskFor(db, principal, taskId);
  const rows = await db.select().from(timeLogs).where(eq(timeLogs.taskId, taskId)).orderBy(asc(timeLogs.id));
  return rows.map(toTimeLogDto);
}

export async function addTimeLog(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["timeLogs"]["add"]>,
) {
  await getTaskFor(db, principal, input.task_id);
  const source = input.source ?? (principal.kind === "user" ? "human" : "ai");
  const [row] = await db
    .insert(timeLogs)
    .values({ taskId: input.task_id, minutes: input.minutes, source, note: input.note ?? null, author: actorName(principal) })
    .returning();
  return toTimeLogDto(row!);
}

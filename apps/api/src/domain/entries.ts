import { type Contract, type ProcedureInput, RESERVED_CONTEXT_SOURCES } from "@ops/contract";
import { type Db, taskComments, taskContext, timeLogs } from "@ops/db";
import { asc, eq } from "drizzle-orm";
import { actorName, type Principal } from "../auth/principal.ts";
import { forbidden } from "../errors.ts";
import { voidApproval } from "./human-gate.ts";
import { toCommentDto, toContextDto, toTimeLogDto } from "./serialize.ts";
import { getTaskFor } from "./task-rows.ts";

// Context entries, comments and time logs: what people and agents attach to a task.

type ContextSource = NonNullable<ProcedureInput<Contract["context"]["add"]>["source"]>;

/**
 * Who wrote it, as a context source: agents write "ai", people "human". The
 * launcher's and the system's sources are theirs alone (the next attempt's
 * prompt presents them as the launcher's words): asking for one is refused.
 */
function sourceFor(principal: Principal, requested: ContextSource | undefined): ContextSource {
  const reserved = requested !== undefined && (RESERVED_CONTEXT_SOURCES as readonly string[]).includes(requested);
  if (reserved && principal.kind !== "service") {
    throw forbidden(`source "${requested}" is written by the launcher and the system only`, "source");
  }
  if (principal.kind === "agent") return "ai";
  if (principal.kind === "user") return "human";
  return requested ?? "ai";
}

export async function listContext(db: Db, principal: Principal, taskId: number) {
  await getTaskFor(db, principal, taskId);
  const rows = await db.select().from(taskContext).where(eq(taskContext.taskId, taskId)).orderBy(asc(taskContext.id));
  return rows.map(toContextDto);
}

/** Adds an entry; what a person or an agent adds voids a Human Gate approval, since the next prompt carries it. */
export async function addContext(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["context"]["add"]>,
  ip: string | null,
) {
  const source = sourceFor(principal, input.source);
  return db.transaction(async (tx) => {
    const task = await getTaskFor(tx, principal, input.task_id, "member", true);
    const [row] = await tx
      .insert(taskContext)
      .values({ taskId: input.task_id, kind: input.kind, body: input.body, source, author: actorName(principal) })
      .returning();
    if (source === "human" || source === "ai") await voidApproval(tx, actorName(principal), task, [`context (${input.kind})`], ip);
    return toContextDto(row!);
  });
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
  if (input.kind === "ai-dispatch-log" && principal.kind !== "service") {
    throw forbidden("ai-dispatch-log comments are written by the launcher", "kind");
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

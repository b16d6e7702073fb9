import { cancelTask } from "../domain/cancel-task.ts";
import { approveTask } from "../domain/human-gate.ts";
import { queueTask } from "../domain/queue-task.ts";
import { toTaskDto } from "../domain/serialize.ts";
import { getTaskFor } from "../domain/task-rows.ts";
import { changeStatus } from "../domain/task-status.ts";
import { archiveTask, createTask, deleteTask, listTasks, updateTask } from "../domain/tasks.ts";
import { explainDispatch } from "../dispatch/explain.ts";
import type { ApiImplementation } from "./implementation.ts";

export const tasksProcedures: ApiImplementation["tasks"] = {
  list: ({ ctx, input }) => listTasks(ctx.db, ctx.principal, input),
  get: async ({ ctx, input }) => toTaskDto(await getTaskFor(ctx.db, ctx.principal, input.id)),
  create: ({ ctx, input }) => createTask(ctx.db, ctx.principal, input, ctx.ip),
  update: ({ ctx, input }) => updateTask(ctx.db, ctx.principal, input, ctx.ip),
  setStatus: ({ ctx, input }) => changeStatus(ctx.db, ctx.principal, input, ctx.ip),
  archive: ({ ctx, input }) => archiveTask(ctx.db, ctx.principal, input.id, ctx.ip),
  delete: async ({ ctx, input }) => {
    await deleteTask(ctx.db, ctx.principal, input.id, ctx.ip);
    return { ok: true };
  },
  dispatch: ({ ctx, input }) => queueTask(ctx.db, ctx.principal, input.id, ctx.ip),
  approve: ({ ctx, input }) => approveTask(ctx.db, ctx.principal, input.id, ctx.ip),
  cancel: ({ ctx, input }) => cancelTask(ctx.db, ctx.principal, input.id, ctx.ip),
  explain: ({ ctx, input }) => explainDispatch(ctx.db, ctx.principal, input.id),
};

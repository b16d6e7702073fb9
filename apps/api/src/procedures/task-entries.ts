import { addComment, addContext, addTimeLog, listComments, listContext, listTimeLogs } from "../domain/entries.ts";
import type { ApiImplementation } from "./implementation.ts";

// What people and agents attach to a task: three small routers over domain/entries.ts.

export const contextProcedures: ApiImplementation["context"] = {
  list: ({ ctx, input }) => listContext(ctx.db, ctx.principal, input.task_id),
  add: ({ ctx, input }) => addContext(ctx.db, ctx.principal, input, ctx.ip),
};

export const commentsProcedures: ApiImplementation["comments"] = {
  list: ({ ctx, input }) => listComments(ctx.db, ctx.principal, input.task_id),
  add: ({ ctx, input }) => addComment(ctx.db, ctx.principal, input),
};

export const timeLogsProcedures: ApiImplementation["timeLogs"] = {
  list: ({ ctx, input }) => listTimeLogs(ctx.db, ctx.principal, input.task_id),
  add: ({ ctx, input }) => addTimeLog(ctx.db, ctx.principal, input),
};

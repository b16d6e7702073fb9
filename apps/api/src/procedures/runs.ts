import { assertActsAsWorker } from "../auth/principal.ts";
import { storeOutputChunks } from "../dispatch/run-output.ts";
import { getRun, listRuns, readRunOutput } from "../domain/runs.ts";
import type { ApiImplementation } from "./implementation.ts";

export const runsProcedures: ApiImplementation["runs"] = {
  list: ({ ctx, input }) => listRuns(ctx.db, ctx.principal, input.id, input.limit),
  get: ({ ctx, input }) => getRun(ctx.db, ctx.principal, input.id, input.run),
  output: ({ ctx, input }) =>
    readRunOutput(ctx.db, ctx.principal, { taskId: input.id, runId: input.run, offset: input.offset, limitKb: input.limit_kb }),
  upload: async ({ ctx, input }) => {
    // Chunks are fenced by the claim (worker and attempt); a worker token speaks only for its own worker id.
    assertActsAsWorker(ctx.principal, input.worker_id);
    return { results: await storeOutputChunks(ctx.db, input.worker_id, input.chunks) };
  },
};

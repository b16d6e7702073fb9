import { issueWorkerToken, listWorkerTokens, revokeWorkerToken } from "../domain/worker-credentials.ts";
import type { ApiImplementation } from "./implementation.ts";

export const workersProcedures: ApiImplementation["workers"] = {
  listTokens: ({ ctx, input }) => listWorkerTokens(ctx.db, ctx.principal, input.include_revoked === true),
  issueToken: ({ ctx, input }) => issueWorkerToken(ctx.db, ctx.principal, input, ctx.ip),
  revokeToken: ({ ctx, input }) => revokeWorkerToken(ctx.db, ctx.principal, input.id, ctx.ip),
};

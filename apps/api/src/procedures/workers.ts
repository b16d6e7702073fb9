import { issueWorkerToken, listWorkerTokens, revokeWorkerToken } from "../domain/worker-credentials.ts";
import type { ApiImplementation } from "./implementation.ts";

export const workersProcedures: ApiImplementation["workers"] = {
  listTokens: ({ ctx, input }) => listWorkerTokens(ctx.db, ctx.principal, input.include_revoked === true),
  issueToken: ({ ctx, input }) => issueWorkerToken(ctx.db, ctx.principal, input, ctx.ip),
  revokeToken: async ({ ctx, input }) => {
    const revoked = await revokeWorkerToken(ctx.db, ctx.principal, input.id, ctx.ip);
    // Dropped here synchronously; the other instances drop it when the revoke's NOTIFY arrives.
    ctx.deps.workerTokens.forget(input.id);
    return revoked;
  },
};

import { createAgent, deleteAgent, listAgents, updateAgent } from "../domain/agents.ts";
import type { ApiImplementation } from "./implementation.ts";

export const agentsProcedures: ApiImplementation["agents"] = {
  list: ({ ctx, input }) => listAgents(ctx.db, ctx.principal, input.workspace_id),
  create: ({ ctx, input }) => createAgent(ctx.db, ctx.principal, input, ctx.ip),
  update: ({ ctx, input }) => updateAgent(ctx.db, ctx.principal, input, ctx.ip),
  delete: async ({ ctx, input }) => {
    await deleteAgent(ctx.db, ctx.principal, input.id, ctx.ip);
    return { ok: true };
  },
};

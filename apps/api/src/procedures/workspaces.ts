import { addMember, createWorkspace, listMembers, listWorkspaces, removeMember, renameWorkspace, setMemberRole } from "../domain/workspaces.ts";
import type { ApiImplementation } from "./implementation.ts";

export const workspacesProcedures: ApiImplementation["workspaces"] = {
  list: ({ ctx }) => listWorkspaces(ctx.db, ctx.principal),
  create: ({ ctx, input }) => createWorkspace(ctx.db, ctx.principal, input.name, ctx.ip),
  rename: ({ ctx, input }) => renameWorkspace(ctx.db, ctx.principal, input.id, input.name, ctx.ip),
};

export const membershipsProcedures: ApiImplementation["memberships"] = {
  list: ({ ctx, input }) => listMembers(ctx.db, ctx.principal, input.workspace_id),
  add: ({ ctx, input }) => addMember(ctx.db, ctx.principal, input, ctx.ip),
  setRole: ({ ctx, input }) => setMemberRole(ctx.db, ctx.principal, input, ctx.ip),
  remove: async ({ ctx, input }) => {
    await removeMember(ctx.db, ctx.principal, input, ctx.ip);
    return { ok: true };
  },
};

import { createUser, listUsers, resetPassword, setUserDisabled } from "../domain/users.ts";
import type { ApiImplementation } from "./implementation.ts";

export const usersProcedures: ApiImplementation["users"] = {
  list: ({ ctx }) => listUsers(ctx.db),
  create: ({ ctx, input }) => createUser(ctx.db, ctx.principal, input, ctx.ip),
  disable: ({ ctx, input }) => setUserDisabled(ctx.db, ctx.principal, input.id, true, ctx.ip),
  enable: ({ ctx, input }) => setUserDisabled(ctx.db, ctx.principal, input.id, false, ctx.ip),
  resetPassword: ({ ctx, input }) => resetPassword(ctx.db, ctx.principal, input.id, input.password, ctx.ip),
};

import { listWorkspaces } from "../domain/workspaces.ts";
import type { ApiImplementation } from "./implementation.ts";

export const workspacesProcedures: ApiImplementation["workspaces"] = {
  list: ({ ctx }) => listWorkspaces(ctx.db, ctx.principal),
};

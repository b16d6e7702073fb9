import { z } from "zod";
import { mutation, query } from "../procedure.ts";
import { ZId, ZRole } from "../schemas.ts";

export const ZWorkspace = z.object({ id: z.number(), name: z.string(), role: ZRole.nullable() });
export type TWorkspace = z.infer<typeof ZWorkspace>;

export const ZWorkspaceName = z.string().trim().min(1).max(200);

export const workspacesContract = {
  list: query({
    path: "/workspaces",
    access: "user",
    summary: "Workspaces the caller can see.",
    input: z.object({}),
    output: z.array(ZWorkspace),
  }),
  create: mutation({
    method: "POST",
    path: "/workspaces",
    access: "operator",
    summary: "Create a workspace.",
    input: z.object({ name: ZWorkspaceName }),
    output: ZWorkspace,
  }),
  rename: mutation({
    method: "PATCH",
    path: "/workspaces/{id}",
    access: "operator",
    summary: "Rename a workspace.",
    input: z.object({ id: ZId, name: ZWorkspaceName }),
    output: ZWorkspace,
  }),
};

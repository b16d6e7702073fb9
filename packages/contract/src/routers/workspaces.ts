import { z } from "zod";
import { query } from "../procedure.ts";
import { ZRole } from "../schemas.ts";

export const ZWorkspace = z.object({ id: z.number(), name: z.string(), role: ZRole.nullable() });
export type TWorkspace = z.infer<typeof ZWorkspace>;

export const workspacesContract = {
  list: query({
    path: "/workspaces",
    access: "user",
    summary: "Workspaces the caller can see.",
    input: z.object({}),
    output: z.array(ZWorkspace),
  }),
};

import { z } from "zod";
import { byId, isoDate, workspaceId, ZBool, ZLaunchCommand, ZOk, ZPath } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZModelName, ZSlug } from "../schemas.ts";

export const ZAgent = z.object({
  id: z.number(),
  workspace_id: z.number(),
  slug: z.string(),
  name: z.string(),
  active: z.boolean(),
  launch_command: z.string().nullable(),
  default_model: z.string().nullable(),
  working_dir: z.string().nullable(),
  created_at: isoDate,
  updated_at: isoDate,
});
export type TAgent = z.infer<typeof ZAgent>;

/** What an operator sets on an agent; its workspace and slug are fixed at creation. */
const ZAgentFields = z.object({
  name: z.string().trim().min(1).max(200),
  active: ZBool.optional(),
  launch_command: ZLaunchCommand.nullable().optional(),
  default_model: ZModelName.nullable().optional(),
  working_dir: ZPath.nullable().optional(),
});
export const ZCreateAgentInput = z.object({ workspace_id: workspaceId, slug: ZSlug, ...ZAgentFields.shape });
export type TCreateAgentInput = z.infer<typeof ZCreateAgentInput>;
export const ZUpdateAgentInput = z.object({ id: ZId, ...ZAgentFields.partial().shape });
export type TUpdateAgentInput = z.infer<typeof ZUpdateAgentInput>;

export const agentsContract = {
  list: query({
    path: "/agents",
    access: "user",
    summary: "Agents of a workspace.",
    input: z.object({ workspace_id: workspaceId }),
    output: z.array(ZAgent),
  }),
  create: mutation({
    method: "POST",
    path: "/agents",
    access: "admin",
    summary: "Register an agent runtime.",
    input: ZCreateAgentInput,
    output: ZAgent,
  }),
  update: mutation({
    method: "PATCH",
    path: "/agents/{id}",
    access: "admin",
    summary: "Change an agent: active flag, launch command, default model, working folder.",
    input: ZUpdateAgentInput,
    output: ZAgent,
  }),
  delete: mutation({
    method: "DELETE",
    path: "/agents/{id}",
    access: "admin",
    summary: "Remove an agent no open task uses (AGENT_IN_USE otherwise); archived tasks keep their history with no agent.",
    input: byId,
    output: ZOk,
  }),
};

import { z } from "zod";
import { ZOk } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZRole } from "../schemas.ts";
import { ZUsername } from "./users.ts";

export const ZMember = z.object({ user_id: z.number(), username: z.string(), role: ZRole, disabled: z.boolean() });
export type TMember = z.infer<typeof ZMember>;

const byMember = z.object({ workspace_id: ZId, user_id: ZId });

// A workspace admin manages its own workspace's members; an instance admin any.
export const membershipsContract = {
  list: query({
    path: "/workspaces/{workspace_id}/members",
    access: "admin",
    summary: "Members of a workspace with their roles.",
    input: z.object({ workspace_id: ZId }),
    output: z.array(ZMember),
  }),
  add: mutation({
    method: "POST",
    path: "/workspaces/{workspace_id}/members",
    access: "admin",
    summary: "Give an existing user a role in the workspace (by username).",
    input: z.object({ workspace_id: ZId, username: ZUsername, role: ZRole }),
    output: ZMember,
  }),
  setRole: mutation({
    method: "PATCH",
    path: "/workspaces/{workspace_id}/members/{user_id}",
    access: "admin",
    summary: "Change a member's role (admin or member).",
    input: byMember.extend({ role: ZRole }),
    output: ZMember,
  }),
  remove: mutation({
    method: "DELETE",
    path: "/workspaces/{workspace_id}/members/{user_id}",
    access: "admin",
    summary: "Remove a user from the workspace.",
    input: byMember,
    output: ZOk,
  }),
};

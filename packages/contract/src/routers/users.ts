import { z } from "zod";
import { byId, isoDate, nullableDate } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZRole } from "../schemas.ts";

/** At least as long as OPS_ADMIN_PASSWORD must be. */
export const PASSWORD_MIN_LENGTH = 12;
export const ZNewPassword = z.string().min(PASSWORD_MIN_LENGTH).max(1000);

export const USERNAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,99}$/;
export const ZUsername = z.string().trim().regex(USERNAME_PATTERN, {
  error: "must be 1-100 letters, digits or . _ @ -, starting with a letter or digit",
});

export const ZUserMembership = z.object({ workspace_id: z.number(), workspace_name: z.string(), role: ZRole });
export const ZUser = z.object({
  id: z.number(),
  username: z.string(),
  is_instance_admin: z.boolean(),
  /** A disabled user cannot sign in; its sessions ended when it was disabled. */
  disabled: z.boolean(),
  disabled_at: nullableDate,
  memberships: z.array(ZUserMembership),
  created_at: isoDate,
});
export type TUser = z.infer<typeof ZUser>;

export const ZCreateUserInput = z.object({
  username: ZUsername,
  password: ZNewPassword,
  is_instance_admin: z.boolean().optional(),
  /** Optionally a first membership, so a new teammate can sign in to something. */
  workspace_id: ZId.optional(),
  role: ZRole.optional(),
});
export type TCreateUserInput = z.infer<typeof ZCreateUserInput>;

export const usersContract = {
  list: query({
    path: "/users",
    access: "operator",
    summary: "Every user with its workspace roles and whether it is disabled.",
    input: z.object({}),
    output: z.array(ZUser),
  }),
  create: mutation({
    method: "POST",
    path: "/users",
    access: "operator",
    summary: "Create a user (optionally with a role in one workspace).",
    input: ZCreateUserInput,
    output: ZUser,
  }),
  disable: mutation({
    method: "POST",
    path: "/users/{id}/disable",
    access: "operator",
    summary: "Disable a user: it can no longer sign in and its sessions end now.",
    input: byId,
    output: ZUser,
  }),
  enable: mutation({
    method: "POST",
    path: "/users/{id}/enable",
    access: "operator",
    summary: "Let a disabled user sign in again.",
    input: byId,
    output: ZUser,
  }),
  resetPassword: mutation({
    method: "POST",
    path: "/users/{id}/password",
    access: "operator",
    summary: "Set a user's password; its sessions end now.",
    input: z.object({ id: ZId, password: ZNewPassword }),
    output: ZUser,
  }),
};

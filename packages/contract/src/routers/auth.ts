import { z } from "zod";
import { ZOk } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZRole } from "../schemas.ts";
import { ZNewPassword } from "./users.ts";

export const ZMembership = z.object({ workspace_id: z.number(), role: ZRole });
export type TMembership = z.infer<typeof ZMembership>;
export const ZMe = z.object({
  kind: z.enum(["user", "service", "agent"]),
  id: z.number().nullable(),
  username: z.string(),
  is_instance_admin: z.boolean(),
  memberships: z.array(ZMembership),
});
export type TMe = z.infer<typeof ZMe>;

export const authContract = {
  login: mutation({
    method: "POST",
    path: "/auth/login",
    access: "public",
    summary: "Sign in with username and password; sets the session cookie.",
    input: z.object({ username: z.string().min(1).max(200), password: z.string().min(1).max(1000) }),
    output: z.object({ me: ZMe }),
  }),
  logout: mutation({
    method: "POST",
    path: "/auth/logout",
    access: "public",
    summary: "End the current session.",
    input: z.object({}),
    output: ZOk,
  }),
  changePassword: mutation({
    method: "POST",
    path: "/auth/password",
    access: "user",
    summary: "Change my password; my other sessions end, this one stays.",
    input: z.object({ current_password: z.string().min(1).max(1000), new_password: ZNewPassword }),
    output: ZOk,
  }),
  me: query({
    path: "/auth/me",
    access: "user",
    summary: "Who the caller is and their workspace roles.",
    input: z.object({}),
    output: ZMe,
  }),
};

import { z } from "zod";
import { byId, isoDate, nullableDate, ZBool } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZWorkerId } from "../schemas.ts";

/** A worker token as listed: never the token itself, which is shown once when issued. */
export const ZWorkerCredential = z.object({
  id: z.number(),
  worker_id: z.string(),
  label: z.string(),
  /** The workspaces whose tasks the worker claims; null: the whole instance. */
  workspace_ids: z.array(z.number()).nullable(),
  created_by: z.string(),
  created_at: isoDate,
  last_used_at: nullableDate,
  revoked_at: nullableDate,
  revoked_by: z.string().nullable(),
});
export type TWorkerCredential = z.infer<typeof ZWorkerCredential>;

/** A worker pool: the workspaces it serves, each once, in order. */
export const ZPoolWorkspaceIds = z
  .array(ZId)
  .min(1, { error: "name at least one workspace, or null for the whole instance" })
  .max(100)
  .transform((ids) => [...new Set(ids)].sort((a, b) => a - b));

export const ZIssueWorkerTokenInput = z.object({
  worker_id: ZWorkerId,
  label: z.string().trim().max(200).optional(),
  /** Required, so the pool is always a choice: the workspaces it serves, or null for the whole instance (instance admins only). */
  workspace_ids: ZPoolWorkspaceIds.nullable(),
});
export type TIssueWorkerTokenInput = z.infer<typeof ZIssueWorkerTokenInput>;

export const workersContract = {
  listTokens: query({
    path: "/workers/tokens",
    access: "admin",
    summary: "Worker tokens the caller manages (a workspace admin: those of its workspaces' pools), with their last use; never the tokens.",
    input: z.object({ include_revoked: ZBool.optional() }),
    output: z.array(ZWorkerCredential),
  }),
  issueToken: mutation({
    method: "POST",
    path: "/workers/tokens",
    access: "admin",
    summary: "Issue a launcher its worker token, bound to its worker_id and pool; the token is returned this once.",
    input: ZIssueWorkerTokenInput,
    output: z.object({ credential: ZWorkerCredential, token: z.string() }),
  }),
  revokeToken: mutation({
    method: "POST",
    path: "/workers/tokens/{id}/revoke",
    access: "admin",
    summary: "Revoke a worker token: its launcher gets 401 at once; the watchdog recovers its running tasks.",
    input: byId,
    output: ZWorkerCredential,
  }),
};

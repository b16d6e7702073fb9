import { z } from "zod";
import { byTaskId, isoDate } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId } from "../schemas.ts";

export const CONTEXT_SOURCES = ["human", "ai", "launcher", "system"] as const;
/** Sources only the launcher and the API itself write: people and agents may not claim them. */
export const RESERVED_CONTEXT_SOURCES = ["launcher", "system"] as const;
/**
 * The kind of the entry that keeps what an agent's process printed when its
 * run failed (source "ai"): agent output, never the launcher's own words.
 */
export const AGENT_OUTPUT_KIND = "agent-output";
export const ZContextEntry = z.object({
  id: z.number(),
  task_id: z.number(),
  kind: z.string(),
  source: z.enum(CONTEXT_SOURCES),
  body: z.string(),
  author: z.string().nullable(),
  created_at: isoDate,
});
export type TContextEntry = z.infer<typeof ZContextEntry>;

export const contextContract = {
  list: query({
    path: "/tasks/{task_id}/context",
    access: "agent",
    summary: "Context entries of a task, oldest first.",
    input: byTaskId,
    output: z.array(ZContextEntry),
  }),
  add: mutation({
    method: "POST",
    path: "/tasks/{task_id}/context",
    access: "agent",
    summary: "Add a context entry (note, deliverable, blocker, checkpoint, …).",
    input: z.object({
      task_id: ZId,
      kind: z.string().trim().min(1).max(40).regex(/^[a-z][a-z0-9_-]*$/, {
        error: "must be a lowercase word such as note, deliverable or blocker",
      }),
      body: z.string().min(1).max(100_000),
      source: z.enum(CONTEXT_SOURCES).optional(),
    }),
    output: ZContextEntry,
  }),
};

import { z } from "zod";
import { byTaskId, isoDate } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId } from "../schemas.ts";

export const COMMENT_KINDS = ["user", "ai-dispatch-log"] as const;
export const ZComment = z.object({
  id: z.number(),
  task_id: z.number(),
  author: z.string(),
  body: z.string(),
  kind: z.enum(COMMENT_KINDS),
  created_at: isoDate,
});
export type TComment = z.infer<typeof ZComment>;

export const commentsContract = {
  list: query({
    path: "/tasks/{task_id}/comments",
    access: "agent",
    summary: "Comments on a task, oldest first.",
    input: byTaskId,
    output: z.array(ZComment),
  }),
  add: mutation({
    method: "POST",
    path: "/tasks/{task_id}/comments",
    access: "agent",
    summary: "Comment on a task.",
    input: z.object({
      task_id: ZId,
      body: z.string().trim().min(1).max(20_000),
      kind: z.enum(COMMENT_KINDS).optional(),
    }),
    output: ZComment,
  }),
};

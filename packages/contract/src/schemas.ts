import { z } from "zod";
import { ZMessageParams } from "./messages.ts";

/*
 * The vocabulary every router shares: task statuses and the groups the
 * dispatch rules speak of, ids, and the patterns of slugs, models and workers.
 */

export const TASK_STATUSES = [
  "backlog",
  "next",
  "queued",
  "dispatching",
  "doing",
  "review",
  "waiting",
  "done",
] as const;
export const ZTaskStatus = z.enum(TASK_STATUSES);
export type TTaskStatus = z.infer<typeof ZTaskStatus>;
/** Statuses a task can be dispatched (queued) from. */
export const DISPATCHABLE_STATUSES = ["backlog", "next", "waiting", "review"] as const satisfies readonly TTaskStatus[];
/** Statuses of a task a launcher holds: claimed, or its agent running. */
export const IN_FLIGHT_STATUSES = ["dispatching", "doing"] as const satisfies readonly TTaskStatus[];
/** Statuses a dispatch can be cancelled in: waiting in the queue, or in flight. */
export const CANCELLABLE_STATUSES = ["queued", ...IN_FLIGHT_STATUSES] as const satisfies readonly TTaskStatus[];

/** Whether a status belongs to one of the groups above (their narrow types refuse a plain status in `includes`). */
export function isStatusIn(group: readonly TTaskStatus[], status: TTaskStatus): boolean {
  return group.includes(status);
}

export const ZExecution = z.enum(["manual", "interactive"]);
export type TExecution = z.infer<typeof ZExecution>;
export const ZRole = z.enum(["admin", "member"]);
export type TRole = z.infer<typeof ZRole>;

export const ZId = z.coerce.number().int().positive().max(2_147_483_647);

/** Agent slugs: what `SUPPORTED_AGENT_SLUGS` and `AGENT_CMD_<SLUG>` name. */
export const SLUG_PATTERN = /^[a-z0-9][a-z0-9_-]{0,39}$/;
export const MODEL_NAME_PATTERN = /^[A-Za-z0-9._:/@+*-]+$/;
export const WORKER_ID_PATTERN = /^[A-Za-z0-9._:@-]+$/;

export const ZSlug = z
  .string()
  .regex(SLUG_PATTERN, {
    error: "must be 1-40 lowercase letters, digits, '-' or '_', starting with a letter or digit",
  });
/** A model label or a worker filter such as `qwen*`. */
export const ZModelName = z
  .string()
  .min(1)
  .max(100)
  .regex(MODEL_NAME_PATTERN, { error: "may contain letters, digits and . _ : / @ + * - only" });
export const ZWorkerId = z.string().min(1).max(200).regex(WORKER_ID_PATTERN, {
  error: "may contain letters, digits and . _ : @ - only",
});

/**
 * Something wrong, for scripts (`code`), for curl users (`message`, English)
 * and for the app (`code` and `params`, rendered in the reader's language):
 * health problems, dispatch reasons. The known codes are in messages.ts.
 */
export const ZProblem = z.object({ code: z.string(), message: z.string(), params: ZMessageParams.optional() });
export type TProblem = z.infer<typeof ZProblem>;

import { z } from "zod";
import { byId, isoDate, nullableDate, text, workspaceId, ZBool, ZOk, ZPath } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { type TTaskStatus, ZExecution, ZId, ZModelName, ZProblem, ZSlug, ZTaskStatus } from "../schemas.ts";

/** What the launcher recorded of the last dispatch; extra keys pass through. */
export const ZDispatchOutput = z
  .object({
    worker_id: z.string().optional(),
    pid: z.number().optional(),
    command: z.array(z.string()).optional(),
    log_path: z.string().optional(),
    err_log_path: z.string().optional(),
    exit_code: z.number().nullable().optional(),
    signal: z.string().nullable().optional(),
    duration_ms: z.number().optional(),
    error: z.string().optional(),
  })
  .catchall(z.unknown());
export type TDispatchOutput = z.infer<typeof ZDispatchOutput>;

export const ZTask = z.object({
  id: z.number(),
  workspace_id: z.number(),
  title: z.string(),
  description: z.string(),
  status: ZTaskStatus,
  execution: ZExecution,
  agent_id: z.number().nullable(),
  agent_slug: z.string().nullable(),
  model: z.string().nullable(),
  priority: z.number(),
  working_dir: z.string().nullable(),
  sensitive: z.boolean(),
  approved_at: nullableDate,
  approved_by: z.string().nullable(),
  blocked: z.boolean(),
  blocked_reason: z.string().nullable(),
  dispatch_output: ZDispatchOutput.nullable(),
  claimed_by: z.string().nullable(),
  claimed_at: nullableDate,
  claim_attempt: z.number(),
  queued_at: nullableDate,
  started_at: nullableDate,
  finished_at: nullableDate,
  failure_count: z.number(),
  cancel_requested_at: nullableDate,
  archived: z.boolean(),
  created_by: z.string().nullable(),
  created_at: isoDate,
  updated_at: isoDate,
});
export type TTask = z.infer<typeof ZTask>;

export const ZExplanation = z.object({
  task_id: z.number(),
  status: ZTaskStatus,
  dispatchable_now: z.boolean(),
  reasons: z.array(ZProblem),
});
export type TExplanation = z.infer<typeof ZExplanation>;

export const TASK_TITLE_MAX_LENGTH = 500;
export const TASK_PRIORITY_RANGE = { min: -1000, max: 1000 } as const;

/** The fields a person writes on a task, the same when creating and editing it. */
const ZTaskFields = z.object({
  title: z.string().trim().min(1).max(TASK_TITLE_MAX_LENGTH),
  description: text(100_000).optional(),
  execution: ZExecution.optional(),
  agent_id: ZId.nullable().optional(),
  agent_slug: ZSlug.optional(),
  model: ZModelName.nullable().optional(),
  priority: z.number().int().min(TASK_PRIORITY_RANGE.min).max(TASK_PRIORITY_RANGE.max).optional(),
  sensitive: ZBool.optional(),
  working_dir: ZPath.nullable().optional(),
});
/** A new task starts in the backlog or next; the dispatch statuses are reached by dispatching it. */
export const INITIAL_TASK_STATUSES = ["backlog", "next"] as const satisfies readonly TTaskStatus[];
export type TInitialTaskStatus = (typeof INITIAL_TASK_STATUSES)[number];
export const ZCreateTaskInput = z.object({
  workspace_id: workspaceId,
  ...ZTaskFields.shape,
  status: z.enum(INITIAL_TASK_STATUSES).optional(),
});
export type TCreateTaskInput = z.infer<typeof ZCreateTaskInput>;
export const ZUpdateTaskInput = z.object({
  id: ZId,
  ...ZTaskFields.partial().shape,
  status: ZTaskStatus.optional(),
  blocked: ZBool.optional(),
  blocked_reason: text(2000).nullable().optional(),
  force: ZBool.optional(),
});
export type TUpdateTaskInput = z.infer<typeof ZUpdateTaskInput>;

export const tasksContract = {
  list: query({
    path: "/tasks",
    access: "user",
    summary: "Tasks of a workspace, newest first, with filters.",
    input: z.object({
      workspace_id: workspaceId,
      status: ZTaskStatus.optional(),
      agent_id: ZId.optional(),
      blocked: ZBool.optional(),
      include_archived: ZBool.optional(),
      search: z.string().max(200).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
      offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
    }),
    output: z.object({ tasks: z.array(ZTask), total: z.number() }),
  }),
  get: query({
    path: "/tasks/{id}",
    access: "agent",
    summary: "One task.",
    input: byId,
    output: ZTask,
  }),
  create: mutation({
    method: "POST",
    path: "/tasks",
    access: "user",
    summary: "Create a task (backlog by default).",
    input: ZCreateTaskInput,
    output: ZTask,
  }),
  update: mutation({
    method: "PATCH",
    path: "/tasks/{id}",
    access: "agent",
    summary: "Change task fields; a change to done passes the AI done guard unless force=true.",
    input: ZUpdateTaskInput,
    output: ZTask,
  }),
  setStatus: mutation({
    method: "PATCH",
    path: "/tasks/{id}/status",
    access: "agent",
    summary: "Move a task to a status; done passes the AI done guard unless force=true (admin/service).",
    input: z.object({ id: ZId, status: ZTaskStatus, force: ZBool.optional() }),
    output: ZTask,
  }),
  archive: mutation({
    method: "POST",
    path: "/tasks/{id}/archive",
    access: "user",
    summary: "Archive a task (hidden from lists, never dispatched).",
    input: byId,
    output: ZTask,
  }),
  delete: mutation({
    method: "DELETE",
    path: "/tasks/{id}",
    access: "admin",
    summary: "Delete a task and everything attached to it.",
    input: byId,
    output: ZOk,
  }),
  dispatch: mutation({
    method: "POST",
    path: "/tasks/{id}/dispatch",
    access: "user",
    summary: "Queue an interactive task for a launcher (Human Gate applies to sensitive tasks).",
    input: byId,
    output: ZTask,
  }),
  approve: mutation({
    method: "POST",
    path: "/tasks/{id}/approve",
    access: "admin",
    summary: "Human Gate: approve a sensitive task so it can be dispatched.",
    input: byId,
    output: ZTask,
  }),
  cancel: mutation({
    method: "POST",
    path: "/tasks/{id}/cancel",
    access: "admin",
    summary: "Cancel a queued or running dispatch; the launcher stops the agent.",
    input: byId,
    output: ZTask,
  }),
  explain: query({
    path: "/tasks/{id}/dispatch-explanation",
    access: "user",
    summary: "Why a task is or is not being dispatched right now.",
    input: byId,
    output: ZExplanation,
  }),
};

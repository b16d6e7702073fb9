import { z } from "zod";
import { ZStaleReason } from "./stale.ts";

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

export const ZExecution = z.enum(["manual", "interactive"]);
export const ZRole = z.enum(["admin", "member"]);

export const ZId = z.coerce.number().int().positive().max(2_147_483_647);
const isoDate = z.string();
const nullableDate = isoDate.nullable();

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

export const ZMembership = z.object({ workspace_id: z.number(), role: ZRole });
export const ZMe = z.object({
  kind: z.enum(["user", "service", "agent"]),
  id: z.number().nullable(),
  username: z.string(),
  is_instance_admin: z.boolean(),
  memberships: z.array(ZMembership),
});
export type TMe = z.infer<typeof ZMe>;

export const ZWorkspace = z.object({ id: z.number(), name: z.string(), role: ZRole.nullable() });

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

export const CONTEXT_SOURCES = ["human", "ai", "launcher", "system"] as const;
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

export const ZComment = z.object({
  id: z.number(),
  task_id: z.number(),
  author: z.string(),
  body: z.string(),
  kind: z.enum(["user", "ai-dispatch-log"]),
  created_at: isoDate,
});

export const ZTimeLog = z.object({
  id: z.number(),
  task_id: z.number(),
  source: z.enum(["ai", "human"]),
  minutes: z.number(),
  note: z.string().nullable(),
  author: z.string().nullable(),
  created_at: isoDate,
});

export const ZSetting = z.object({
  key: z.string(),
  /** Null for secrets, which are never returned. */
  value: z.string().nullable(),
  secret: z.boolean(),
  is_set: z.boolean(),
  description: z.string(),
  updated_at: nullableDate,
  updated_by: z.string().nullable(),
});

export const ZWorker = z.object({
  worker_id: z.string(),
  hostname: z.string(),
  pid: z.number(),
  version: z.string(),
  agent_slugs: z.array(z.string()),
  models: z.array(z.string()),
  running_task_ids: z.array(z.number()),
  free_slots: z.number(),
  cli_versions: z.record(z.string(), z.string()),
  last_seen_at: isoDate,
  seconds_since_seen: z.number(),
  fresh: z.boolean(),
});

export const ZAlert = z.object({
  id: z.number(),
  workspace_id: z.number(),
  kind: z.string(),
  task_id: z.number().nullable(),
  task_title: z.string().nullable(),
  status: z.enum(["open", "resolved"]),
  message: z.string(),
  occurrences: z.number(),
  first_seen_at: isoDate,
  last_seen_at: isoDate,
  resolved_at: nullableDate,
  resolved_by: z.string().nullable(),
});

export const ZAuditEntry = z.object({
  id: z.number(),
  actor: z.string(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  created_at: isoDate,
});

export const ZProblem = z.object({ code: z.string(), message: z.string() });

export const ZHealth = z.object({
  ok: z.boolean(),
  dispatch_enabled: z.boolean(),
  problems: z.array(ZProblem),
  worker_summary: z.object({ total: z.number(), fresh: z.number(), stale: z.number() }),
  workers: z.array(ZWorker),
  queue: z.object({
    queued: z.number(),
    dispatching: z.number(),
    doing: z.number(),
    stale_dispatching: z.number(),
    blocked: z.number(),
  }),
  dispatching: z.array(
    z.object({
      task_id: z.number(),
      title: z.string(),
      status: ZTaskStatus,
      agent_slug: z.string().nullable(),
      claimed_by: z.string().nullable(),
      claimed_at: nullableDate,
      age_seconds: z.number(),
      stale: z.boolean(),
      /** Why the watchdog would take it back (null when it is not stale). */
      stale_reason: ZStaleReason.nullable(),
    }),
  ),
  open_alerts: z.number(),
  thresholds: z.object({
    dispatch_stale_minutes: z.number(),
    dispatch_worker_stale_seconds: z.number(),
    dispatch_max_concurrent: z.number(),
  }),
  active_agents: z.array(z.string()),
  server_time: isoDate,
});

export const ZExplanation = z.object({
  task_id: z.number(),
  status: ZTaskStatus,
  dispatchable_now: z.boolean(),
  reasons: z.array(ZProblem),
});

export const ZClaimedTask = z.object({
  task: ZTask,
  agent: ZAgent,
  context: z.array(ZContextEntry),
  attempt: z.number(),
  /** Credential scoped to this task and attempt, for the agent to report with. */
  task_token: z.string(),
});

export const ZNextResult = z.discriminatedUnion("claimed", [
  z.object({ claimed: z.literal(true), ...ZClaimedTask.shape }),
  z.object({
    claimed: z.literal(false),
    reason: z.enum(["dispatch_disabled", "empty", "capacity"]),
    reconciled: z.number(),
  }),
]);
export type TNextResult = z.infer<typeof ZNextResult>;

// Types and helpers the API and the SPA share instead of local copies (issue 10).
export type TProblem = z.infer<typeof ZProblem>;
export type TSetting = z.infer<typeof ZSetting>;
export type THealth = z.infer<typeof ZHealth>;
export const isInFlight = (status: TTaskStatus): boolean => (IN_FLIGHT_STATUSES as readonly TTaskStatus[]).includes(status);

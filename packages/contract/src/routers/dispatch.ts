import { z } from "zod";
import { isoDate, nullableDate, ZBool, ZOk, ZPath } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZModelName, ZProblem, ZSlug, ZTaskStatus, ZWorkerId } from "../schemas.ts";
import { ZMessageParams } from "../messages.ts";
import { ZStaleReason } from "../stale.ts";
import { ZAgent } from "./agents.ts";
import { ZContextEntry } from "./context.ts";
import { FAILED_RUN_OUTCOMES } from "./runs.ts";
import { ZTask } from "./tasks.ts";

/**
 * A runtime as its launcher sees it: `usable`; `missing` (no command, or its
 * program is not on PATH); `not_authenticated` (installed, no credentials);
 * `invalid_command` (its template does not parse). With the reason in words
 * and the CLI's `--version`.
 */
export const RUNTIME_STATES = ["usable", "missing", "not_authenticated", "invalid_command"] as const;
export const ZRuntimeState = z.object({
  slug: ZSlug,
  state: z.enum(RUNTIME_STATES),
  reason: z.string().max(1000).nullable(),
  version: z.string().max(200).nullable(),
});
export type TRuntimeState = z.infer<typeof ZRuntimeState>;

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
  /** Every supported runtime with its state (usable or why not), from the last heartbeat. */
  runtimes: z.array(ZRuntimeState),
  last_seen_at: isoDate,
  seconds_since_seen: z.number(),
  fresh: z.boolean(),
  /** How its last heartbeat authenticated: the service token is flagged by health. */
  credential: z.enum(["service", "worker_token"]),
  /** The workspaces it serves; null: the whole instance. */
  workspace_ids: z.array(z.number()).nullable(),
});
export type TWorker = z.infer<typeof ZWorker>;

/** A task a launcher holds, as health shows it. */
export const ZDispatchingRow = z.object({
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
});
export type TDispatchingRow = z.infer<typeof ZDispatchingRow>;

/**
 * Workers are listed a page at a time, in worker id order: a fleet of
 * thousands would make health and the app's table megabytes (issue 12). The
 * counts and problems stay exact over the whole fleet.
 */
export const WORKERS_PAGE = { default: 50, max: 500 } as const;

/** Fresh workers that report an agent slug as usable: the exact count and the first few ids. */
export const ZAgentCoverage = z.object({
  slug: z.string(),
  fresh_workers: z.number(),
  /** Up to AGENT_COVERAGE_SAMPLE worker ids, in id order. */
  workers: z.array(z.string()),
});
export type TAgentCoverage = z.infer<typeof ZAgentCoverage>;
export const AGENT_COVERAGE_SAMPLE = 5;

/** One page of workers (GET /dispatch/workers): `total` counts every worker the filters match. */
export const ZWorkerPage = z.object({
  workers: z.array(ZWorker),
  total: z.number(),
  /** Pass as `cursor` for the next page; null on the last one. */
  next_cursor: z.string().nullable(),
});
export type TWorkerPage = z.infer<typeof ZWorkerPage>;

export const ZWorkerListInput = z.object({
  limit: z.coerce.number().int().min(1).max(WORKERS_PAGE.max).optional(),
  /** The `next_cursor` of the previous page: workers whose id sorts after it. */
  cursor: ZWorkerId.optional(),
  /** Only workers whose last heartbeat is older than dispatch_worker_stale_seconds. */
  stale_only: ZBool.optional(),
  /** Only workers that report this agent slug as usable. */
  agent: ZSlug.optional(),
});
export type TWorkerListInput = z.input<typeof ZWorkerListInput>;

export const ZHealth = z.object({
  ok: z.boolean(),
  dispatch_enabled: z.boolean(),
  problems: z.array(ZProblem),
  worker_summary: z.object({ total: z.number(), fresh: z.number(), stale: z.number() }),
  /** The first page of workers in id order (`workers_limit`, default 50); the rest through GET /dispatch/workers. */
  workers: z.array(ZWorker),
  /** How many workers there are in all (= worker_summary.total). */
  workers_total: z.number(),
  /** `cursor` for GET /dispatch/workers to read the page after `workers`; null when `workers` is all of them (or workers_limit=0: start without a cursor). */
  workers_next_cursor: z.string().nullable(),
  /** Per usable agent slug, the fresh workers that run it (exact count, first few ids). */
  agent_coverage: z.array(ZAgentCoverage),
  queue: z.object({
    queued: z.number(),
    dispatching: z.number(),
    doing: z.number(),
    stale_dispatching: z.number(),
    blocked: z.number(),
  }),
  dispatching: z.array(ZDispatchingRow),
  open_alerts: z.number(),
  thresholds: z.object({
    dispatch_stale_minutes: z.number(),
    dispatch_worker_stale_seconds: z.number(),
    dispatch_max_concurrent: z.number(),
  }),
  active_agents: z.array(z.string()),
  server_time: isoDate,
});
export type THealth = z.infer<typeof ZHealth>;

export const ZClaimedTask = z.object({
  task: ZTask,
  agent: ZAgent,
  context: z.array(ZContextEntry),
  attempt: z.number(),
  /** Credential scoped to this task and attempt, for the agent to report with. */
  task_token: z.string(),
  /** The run this claim opened (GET /tasks/:id/runs/:run). */
  run_id: z.number(),
  /** Stop the agent after this many minutes (the task's, the agent's, or dispatch_run_timeout_minutes). */
  run_timeout_minutes: z.number(),
});
export type TClaimedTask = z.infer<typeof ZClaimedTask>;

export const ZNextResult = z.discriminatedUnion("claimed", [
  z.object({ claimed: z.literal(true), ...ZClaimedTask.shape }),
  z.object({
    claimed: z.literal(false),
    reason: z.enum(["dispatch_disabled", "empty", "capacity"]),
    reconciled: z.number(),
  }),
]);
export type TNextResult = z.infer<typeof ZNextResult>;

/** Why a worker must stop a task it runs: an operator cancelled it, or its claim went elsewhere. */
export const ZStopTask = z.object({
  id: z.number(),
  code: z.enum(["cancelled", "not_held"]),
  reason: z.string(),
});
export type TStopTask = z.infer<typeof ZStopTask>;

export const ZHeartbeatAnswer = z.object({
  ok: z.literal(true),
  worker_stale_seconds: z.number(),
  /** Tasks this worker runs but no longer holds (cancelled or re-claimed): stop them. */
  stop_task_ids: z.array(z.number()),
  /** The same tasks, each with why. */
  stop_tasks: z.array(ZStopTask),
});
export type THeartbeatAnswer = z.infer<typeof ZHeartbeatAnswer>;

/** A task its worker must stop, and why (the stop report's reason). */

/** The final sizes of a run's two log files, reported with its outcome: the API then knows when it has all of the output. */
const outputTotals = {
  stdout_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  stderr_bytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
};

/** The launcher's fence: the task, and the worker and claim attempt a report speaks for. */
export const ZClaimFence = z.object({ id: ZId, worker_id: ZWorkerId, attempt: z.number().int().min(1) });
export type TClaimFence = z.infer<typeof ZClaimFence>;

/** What a launcher needs of an agent it may run: the agents of its pool, active. */
export const ZWorkerAgent = z.object({
  id: z.number(),
  workspace_id: z.number(),
  slug: z.string(),
  launch_command: z.string().nullable(),
  default_model: z.string().nullable(),
});
export type TWorkerAgent = z.infer<typeof ZWorkerAgent>;

/** Who a worker credential is, for the launcher and its doctor. */
export const ZWorkerCredentialInfo = z.object({
  credential: z.enum(["service", "worker_token"]),
  /** The worker id a worker token is bound to; null for the service token (any). */
  worker_id: z.string().nullable(),
  label: z.string().nullable(),
  workspace_ids: z.array(z.number()).nullable(),
  dispatch_enabled: z.boolean(),
});
export type TWorkerCredentialInfo = z.infer<typeof ZWorkerCredentialInfo>;

/** A workspace's dispatch as its admins see it: its own switch and who serves it. */
export const ZWorkspaceDispatch = z.object({
  workspace_id: z.number(),
  name: z.string(),
  /** The workspace's switch; launchers claim its tasks only while this and the instance's dispatch_enabled are on. */
  dispatch_enabled: z.boolean(),
  /** Fresh workers whose pool includes it. */
  fresh_workers: z.number(),
  queued: z.number(),
});
export type TWorkspaceDispatch = z.infer<typeof ZWorkspaceDispatch>;

/**
 * The manual watchdog's age threshold in minutes. At least one: 0 would take
 * back live claims of fresh workers with one click. A pass limited to named
 * tasks (`task_ids`: what the app previewed and the operator confirmed, or a
 * smoke's own task) may use 0.
 */
export const RECONCILE_MINUTES = { min: 1, max: 10_080 } as const;
export const ZReconcileMinutes = z.number().int().min(0).max(RECONCILE_MINUTES.max);

/** A task the manual watchdog would take back now, and why (GET /dispatch/reconcile-stale/preview). */
export const ZReconcileCandidate = ZDispatchingRow.omit({ stale: true, stale_reason: true }).extend({
  /** Whether its worker is heartbeating: taking its task back stops live work. */
  worker_fresh: z.boolean(),
  reason: ZStaleReason,
});
export type TReconcileCandidate = z.infer<typeof ZReconcileCandidate>;

export const dispatchContract = {
  next: mutation({
    method: "POST",
    path: "/dispatch/next",
    access: "worker",
    summary: "Reconcile stale work, then claim the best queued task for this worker (optional long-poll).",
    input: z.object({
      worker_id: ZWorkerId,
      agent_slugs: z.array(ZSlug).min(1).max(100),
      models: z.array(ZModelName).max(100).optional(),
      wait_ms: z.number().int().min(0).max(30_000).optional(),
    }),
    output: ZNextResult,
  }),
  heartbeat: mutation({
    method: "POST",
    path: "/dispatch/heartbeat",
    access: "worker",
    summary: "Record a worker's liveness and usable runtimes; answers which of its tasks to stop.",
    input: z.object({
      worker_id: ZWorkerId,
      hostname: z.string().min(1).max(255),
      pid: z.number().int().min(0).max(2 ** 31),
      version: z.string().max(100),
      agent_slugs: z.array(ZSlug).max(100),
      models: z.array(ZModelName).max(100).default([]),
      running_task_ids: z.array(z.number().int().positive()).max(10_000).default([]),
      free_slots: z.number().int().min(0).max(10_000),
      cli_versions: z.record(z.string().max(100), z.string().max(200)).default({}),
      runtimes: z.array(ZRuntimeState).max(100).default([]),
    }),
    output: ZHeartbeatAnswer,
  }),
  stops: mutation({
    method: "POST",
    path: "/dispatch/stops",
    access: "worker",
    summary:
      "Long-poll: which of this worker's running tasks to stop (cancelled, or no longer held); answers as soon as a cancel is made.",
    input: z.object({
      worker_id: ZWorkerId,
      task_ids: z.array(ZId).max(10_000).default([]),
      wait_ms: z.number().int().min(0).max(30_000).optional(),
    }),
    output: z.object({ stop_tasks: z.array(ZStopTask) }),
  }),
  health: query({
    path: "/dispatch/health",
    access: "user",
    summary:
      "Dispatch health: exact worker counts, the first page of workers, queue, stale work and every problem in words.",
    input: z.object({
      /** How many workers to list (0: none, only the counts); default 50. */
      workers_limit: z.coerce.number().int().min(0).max(WORKERS_PAGE.max).optional(),
    }),
    output: ZHealth,
  }),
  workers: query({
    path: "/dispatch/workers",
    access: "user",
    summary: "Registered workers a page at a time, in worker id order, optionally only the stale ones or those running an agent.",
    input: ZWorkerListInput,
    output: ZWorkerPage,
  }),
  reconcileStale: mutation({
    method: "POST",
    path: "/dispatch/reconcile-stale",
    access: "admin",
    summary: "Manual watchdog: reconcile tasks dispatching longer than `minutes`.",
    input: z
      .object({
        minutes: ZReconcileMinutes.optional(),
        /** Limit the pass to these tasks (smoke tests reconcile only their own; the app, what it previewed). */
        task_ids: z.array(ZId).min(1).max(1000).optional(),
      })
      .refine((v) => v.minutes === undefined || v.minutes >= RECONCILE_MINUTES.min || v.task_ids !== undefined, {
        path: ["minutes"],
        error: `must be at least ${RECONCILE_MINUTES.min} (0 would take back live work), unless task_ids names the tasks`,
        params: { reason: "reconcile_minutes", min: RECONCILE_MINUTES.min },
      }),
    output: z.object({
      stale_minutes: z.number(),
      reconciled: z.number(),
      task_ids: z.array(z.number()),
    }),
  }),
  agents: query({
    path: "/dispatch/agents",
    access: "worker",
    summary: "The active agents of the caller's pool, with their launch command and default model.",
    input: z.object({}),
    output: z.array(ZWorkerAgent),
  }),
  credential: query({
    path: "/dispatch/credential",
    access: "worker",
    summary: "Who the worker credential is: service token or worker token, its worker id and pool.",
    input: z.object({}),
    output: ZWorkerCredentialInfo,
  }),
  workspaces: query({
    path: "/dispatch/workspaces",
    access: "user",
    summary: "The caller's workspaces with their own dispatch switch and the fresh workers that serve them.",
    input: z.object({}),
    output: z.array(ZWorkspaceDispatch),
  }),
  setWorkspaceDispatch: mutation({
    method: "PUT",
    path: "/dispatch/workspaces/{workspace_id}",
    access: "admin",
    summary: "Pause or resume dispatch for one workspace (its admins); dispatch_enabled stays the instance's switch.",
    input: z.object({ workspace_id: ZId, enabled: ZBool }),
    output: ZWorkspaceDispatch,
  }),
  reconcilePreview: query({
    path: "/dispatch/reconcile-stale/preview",
    access: "admin",
    summary: "What Reconciliar stale would take back now with these minutes, without changing anything.",
    input: z.object({ minutes: z.coerce.number().int().min(RECONCILE_MINUTES.min).max(RECONCILE_MINUTES.max).optional() }),
    output: z.object({ stale_minutes: z.number(), tasks: z.array(ZReconcileCandidate) }),
  }),
  removeWorker: mutation({
    method: "DELETE",
    path: "/dispatch/workers/{worker_id}",
    access: "operator",
    summary: "Forget a worker's heartbeat row (a decommissioned host, a smoke test's fake worker).",
    input: z.object({ worker_id: ZWorkerId }),
    output: ZOk,
  }),
  started: mutation({
    method: "POST",
    path: "/dispatch/tasks/{id}/started",
    access: "worker",
    summary: "Launcher report: the agent process is running (task → doing).",
    input: ZClaimFence.extend({
      pid: z.number().int().min(1).max(2 ** 31),
      command: z.array(z.string().max(10_000)).min(1).max(200),
      log_path: ZPath,
      err_log_path: ZPath,
    }),
    output: ZTask,
  }),
  failed: mutation({
    method: "POST",
    path: "/dispatch/tasks/{id}/failed",
    access: "worker",
    summary: "Launcher report: the launch failed (task → waiting, blocked, alert).",
    input: ZClaimFence.extend({
      reason: z.string().min(1).max(2000),
      evidence: z.string().max(20_000).optional(),
      exit_code: z.number().int().nullable().optional(),
      signal: z.string().max(20).nullable().optional(),
      duration_ms: z.number().int().min(0).optional(),
      ai_minutes: z.number().int().min(0).max(10_080).optional(),
      /** What the agent's process printed (its log tails): kept apart from the launcher's own words, as agent output. */
      agent_output: z.string().max(20_000).optional(),
      /** How the run ended, for its record (default failed). */
      outcome: z.enum(FAILED_RUN_OUTCOMES).optional(),
      reason_code: z.string().max(64).optional(),
      reason_params: ZMessageParams.optional(),
      ...outputTotals,
    }),
    output: ZTask,
  }),
  finished: mutation({
    method: "POST",
    path: "/dispatch/tasks/{id}/finished",
    access: "worker",
    summary: "Launcher report: the agent exited 0 (task → review, checkpoint, AI time).",
    input: ZClaimFence.extend({
      exit_code: z.number().int(),
      duration_ms: z.number().int().min(0),
      log_path: ZPath.optional(),
      err_log_path: ZPath.optional(),
      ai_minutes: z.number().int().min(0).max(10_080).optional(),
      ...outputTotals,
    }),
    output: ZTask,
  }),
};

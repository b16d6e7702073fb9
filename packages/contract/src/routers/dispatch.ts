import { z } from "zod";
import { isoDate, nullableDate, ZBool, ZOk, ZPath } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZModelName, ZProblem, ZSlug, ZTaskStatus, ZWorkerId } from "../schemas.ts";
import { ZStaleReason } from "../stale.ts";
import { ZAgent } from "./agents.ts";
import { ZContextEntry } from "./context.ts";
import { ZTask } from "./tasks.ts";

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
    }),
    output: ZHeartbeatAnswer,
  }),
  health: query({
    path: "/dispatch/health",
    access: "user",
    summary: "Dispatch health: workers, queue, stale work and every problem in words.",
    input: z.object({}),
    output: ZHealth,
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
    }),
    output: ZTask,
  }),
};

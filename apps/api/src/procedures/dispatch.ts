import { actorName, adminWorkspaces, assertActsAsWorker, workerPool } from "../auth/principal.ts";
import { listPoolAgents } from "../domain/agents.ts";
import { setWorkspaceDispatch } from "../domain/workspace-dispatch.ts";
import { dispatchHealth, dispatchWorkers } from "../dispatch/health.ts";
import { recordHeartbeat, removeWorker } from "../dispatch/heartbeat.ts";
import { nextWithWait } from "../dispatch/next.ts";
import { listWorkspaceDispatch } from "../dispatch/pools.ts";
import { previewReconcile } from "../dispatch/reconcile-preview.ts";
import { reportFailed, reportFinished, reportStarted } from "../dispatch/reports.ts";
import { waitForStops } from "../dispatch/stops.ts";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import type { ApiImplementation } from "./implementation.ts";
import type { Ctx } from "./request-context.ts";

/** A worker caller acts as one worker id: a worker token only as its own. */
const asWorker = (ctx: Ctx, workerId: string) => {
  assertActsAsWorker(ctx.principal, workerId);
  return workerPool(ctx.principal);
};

export const dispatchProcedures: ApiImplementation["dispatch"] = {
  next: ({ ctx, input }) => {
    const pool = asWorker(ctx, input.worker_id);
    return nextWithWait(
      ctx.db,
      ctx.deps.dispatcher,
      ctx.deps.settings,
      {
        workerId: input.worker_id,
        agentSlugs: input.agent_slugs,
        models: input.models ?? [],
        pool,
        waitMs: input.wait_ms ?? 0,
      },
      `worker:${input.worker_id}`,
      ctx.signal,
    );
  },
  heartbeat: ({ ctx, input }) => {
    const pool = asWorker(ctx, input.worker_id);
    return recordHeartbeat(ctx.db, ctx.deps.heartbeats, ctx.deps.settings, input, { kind: ctx.principal.kind === "worker" ? "worker_token" : "service", pool });
  },
  agents: ({ ctx }) => listPoolAgents(ctx.db, workerPool(ctx.principal)),
  credential: async ({ ctx }) => {
    const { principal } = ctx;
    const { dispatchEnabled } = await ctx.deps.settings.get();
    if (principal.kind !== "worker") {
      return { credential: "service" as const, worker_id: null, label: null, workspace_ids: null, dispatch_enabled: dispatchEnabled };
    }
    return {
      credential: "worker_token" as const,
      worker_id: principal.workerId,
      label: principal.label,
      workspace_ids: principal.workspaceIds === null ? null : [...principal.workspaceIds],
      dispatch_enabled: dispatchEnabled,
    };
  },
  stops: ({ ctx, input }) => {
    asWorker(ctx, input.worker_id);
    return waitForStops(ctx.db, ctx.deps.stopWakeup, { workerId: input.worker_id, runningTaskIds: input.task_ids, waitMs: input.wait_ms ?? 0 }, ctx.signal);
  },
  health: ({ ctx, input }) =>
    dispatchHealth(ctx.db, ctx.principal, { workersLimit: input.workers_limit, trustProxy: ctx.deps.env.TRUST_PROXY }),
  workers: ({ ctx, input }) => dispatchWorkers(ctx.db, input),
  workspaces: ({ ctx }) => listWorkspaceDispatch(ctx.db, ctx.principal),
  setWorkspaceDispatch: async ({ ctx, input }) => {
    await setWorkspaceDispatch(ctx.db, ctx.principal, input.workspace_id, input.enabled, ctx.ip);
    const [row] = await listWorkspaceDispatch(ctx.db, ctx.principal, input.workspace_id);
    return row!;
  },
  reconcileStale: async ({ ctx, input }) => {
    // A workspace admin's manual pass reconciles its own workspaces' tasks only.
    const pass = await runWatchdogPass(ctx.db, {
      actor: actorName(ctx.principal),
      manual: true,
      ip: ctx.ip,
      staleMinutes: input.minutes,
      taskIds: input.task_ids,
      workspaceIds: adminWorkspaces(ctx.principal) ?? undefined,
    });
    return { stale_minutes: pass.staleMinutes, reconciled: pass.taskIds.length, task_ids: pass.taskIds };
  },
  reconcilePreview: ({ ctx, input }) => previewReconcile(ctx.db, ctx.principal, input.minutes),
  removeWorker: async ({ ctx, input }) => {
    await removeWorker(ctx.db, input.worker_id, actorName(ctx.principal), ctx.ip);
    ctx.deps.heartbeats.forget(input.worker_id);
    return { ok: true };
  },
  started: ({ ctx, input }) => reportStarted(ctx.db, input, asWorker(ctx, input.worker_id)),
  failed: ({ ctx, input }) => reportFailed(ctx.db, input, asWorker(ctx, input.worker_id)),
  finished: ({ ctx, input }) => reportFinished(ctx.db, input, asWorker(ctx, input.worker_id)),
};

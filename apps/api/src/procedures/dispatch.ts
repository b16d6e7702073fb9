import { actorName } from "../auth/principal.ts";
import { dispatchHealth } from "../dispatch/health.ts";
import { recordHeartbeat, removeWorker } from "../dispatch/heartbeat.ts";
import { nextWithWait } from "../dispatch/next.ts";
import { reportFailed, reportFinished, reportStarted } from "../dispatch/reports.ts";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import type { ApiImplementation } from "./implementation.ts";

export const dispatchProcedures: ApiImplementation["dispatch"] = {
  next: ({ ctx, input }) =>
    nextWithWait(
      ctx.db,
      ctx.deps.wakeup,
      { workerId: input.worker_id, agentSlugs: input.agent_slugs, models: input.models ?? [], waitMs: input.wait_ms ?? 0 },
      `worker:${input.worker_id}`,
      ctx.signal,
    ),
  heartbeat: ({ ctx, input }) => recordHeartbeat(ctx.db, input),
  health: ({ ctx }) => dispatchHealth(ctx.db, ctx.principal),
  reconcileStale: async ({ ctx, input }) => {
    const pass = await runWatchdogPass(ctx.db, {
      actor: actorName(ctx.principal),
      manual: true,
      ip: ctx.ip,
      staleMinutes: input.minutes,
      taskIds: input.task_ids,
    });
    return { stale_minutes: pass.staleMinutes, reconciled: pass.taskIds.length, task_ids: pass.taskIds };
  },
  removeWorker: async ({ ctx, input }) => {
    await removeWorker(ctx.db, input.worker_id, actorName(ctx.principal), ctx.ip);
    return { ok: true };
  },
  started: ({ ctx, input }) => reportStarted(ctx.db, input),
  failed: ({ ctx, input }) => reportFailed(ctx.db, input),
  finished: ({ ctx, input }) => reportFinished(ctx.db, input),
};

import { type contract, SETTINGS, type SettingKey } from "@ops/contract";
import { auditLog, type Db } from "@ops/db";
import { desc, eq } from "drizzle-orm";
import { authenticate } from "../auth/authenticate.ts";
import { actorName, describePrincipal, type Principal } from "../auth/principal.ts";
import { login, logout } from "../auth/login.ts";
import { generateToken } from "../auth/crypto.ts";
import { createAgent, deleteAgent, listAgents, updateAgent } from "../domain/agents.ts";
import { listAlerts, resolveAlert } from "../domain/alerts.ts";
import { addComment, addContext, addTimeLog, listComments, listContext, listTimeLogs } from "../domain/entries.ts";
import { forbidden } from "../domain/errors.ts";
import { listWorkspaces } from "../domain/workspaces.ts";
import {
  GENERATED_DEFAULTS_KEY,
  getSetting,
  listSettings,
  putSetting,
  readSetting,
  writeRawSetting,
} from "../domain/settings.ts";
import { archiveTask, changeStatus, createTask, deleteTask, getTaskFor, listTasks, updateTask } from "../domain/tasks.ts";
import { toAuditDto, toTaskDto } from "../domain/serialize.ts";
import { explainDispatch } from "../dispatch/explain.ts";
import { dispatchHealth } from "../dispatch/health.ts";
import { recordHeartbeat, removeWorker } from "../dispatch/heartbeat.ts";
import { nextWithWait } from "../dispatch/next.ts";
import { approveTask, cancelTask, queueTask } from "../dispatch/queue.ts";
import { reportFailed, reportFinished, reportStarted } from "../dispatch/reports.ts";
import { runWatchdogPass } from "../dispatch/watchdog.ts";
import type { Implementation } from "../trpc/router.ts";

// Thin procedures: each maps a contract entry onto a plain domain function.

/** Settings writes: instance-wide secrets need an instance admin; dispatch knobs a workspace admin. */
function assertMaySetSetting(principal: Principal, key: string) {
  const def = SETTINGS[key as SettingKey] as { instanceOnly?: boolean } | undefined;
  if (def?.instanceOnly && !(principal.kind === "service" || (principal.kind === "user" && principal.isInstanceAdmin))) {
    throw forbidden(`${key} can be changed by an instance admin or the service token only`);
  }
}

export const implementation: Implementation<typeof contract> = {
  auth: {
    login: async ({ ctx, input }) => {
      const session = await login(ctx.db, input.username, input.password, ctx.ip);
      ctx.cookies.set(session.cookie, session.expiresAt);
      const principal = await authenticate(ctx.db, ctx.deps.serviceTokens, {}, session.cookie);
      return { me: describePrincipal(principal) };
    },
    logout: async ({ ctx }) => {
      if (ctx.principal.kind === "user") await logout(ctx.db, ctx.principal.sessionIdHash);
      ctx.cookies.clear();
      return { ok: true };
    },
    me: async ({ ctx }) => describePrincipal(ctx.principal),
  },
  workspaces: {
    list: ({ ctx }) => listWorkspaces(ctx.db, ctx.principal),
  },
  agents: {
    list: ({ ctx, input }) => listAgents(ctx.db, ctx.principal, input.workspace_id),
    create: ({ ctx, input }) => createAgent(ctx.db, ctx.principal, input, ctx.ip),
    update: ({ ctx, input }) => updateAgent(ctx.db, ctx.principal, input, ctx.ip),
    delete: async ({ ctx, input }) => {
      await deleteAgent(ctx.db, ctx.principal, input.id, ctx.ip);
      return { ok: true };
    },
  },
  tasks: {
    list: ({ ctx, input }) => listTasks(ctx.db, ctx.principal, input),
    get: async ({ ctx, input }) => toTaskDto(await getTaskFor(ctx.db, ctx.principal, input.id)),
    create: ({ ctx, input }) => createTask(ctx.db, ctx.principal, input, ctx.ip),
    update: ({ ctx, input }) => updateTask(ctx.db, ctx.principal, input, ctx.ip),
    setStatus: ({ ctx, input }) => changeStatus(ctx.db, ctx.principal, input, ctx.ip),
    archive: ({ ctx, input }) => archiveTask(ctx.db, ctx.principal, input.id, ctx.ip),
    delete: async ({ ctx, input }) => {
      await deleteTask(ctx.db, ctx.principal, input.id, ctx.ip);
      return { ok: true };
    },
    dispatch: ({ ctx, input }) => queueTask(ctx.db, ctx.principal, input.id, ctx.ip),
    approve: ({ ctx, input }) => approveTask(ctx.db, ctx.principal, input.id, ctx.ip),
    cancel: ({ ctx, input }) => cancelTask(ctx.db, ctx.principal, input.id, ctx.ip),
    explain: ({ ctx, input }) => explainDispatch(ctx.db, ctx.principal, input.id),
  },
  context: {
    list: ({ ctx, input }) => listContext(ctx.db, ctx.principal, input.task_id),
    add: ({ ctx, input }) => addContext(ctx.db, ctx.principal, input),
  },
  comments: {
    list: ({ ctx, input }) => listComments(ctx.db, ctx.principal, input.task_id),
    add: ({ ctx, input }) => addComment(ctx.db, ctx.principal, input),
  },
  timeLogs: {
    list: ({ ctx, input }) => listTimeLogs(ctx.db, ctx.principal, input.task_id),
    add: ({ ctx, input }) => addTimeLog(ctx.db, ctx.principal, input),
  },
  settings: {
    list: ({ ctx }) => listSettings(ctx.db),
    get: ({ ctx, input }) => getSetting(ctx.db, input.key),
    put: async ({ ctx, input }) => {
      assertMaySetSetting(ctx.principal, input.key);
      const view = await putSetting(ctx.db, input.key, input.value, actorName(ctx.principal), ctx.ip);
      if (input.key === "service_api_token") await onServiceTokenChanged(ctx.db, ctx.deps.serviceTokens);
      return view;
    },
    rotateServiceToken: async ({ ctx }) => {
      const token = generateToken();
      await putSetting(ctx.db, "service_api_token", token, actorName(ctx.principal), ctx.ip);
      await onServiceTokenChanged(ctx.db, ctx.deps.serviceTokens);
      return { token };
    },
  },
  dispatch: {
    next: ({ ctx, input }) =>
      nextWithWait(
        ctx.db,
        ctx.deps.wakeup,
        {
          workerId: input.worker_id,
          agentSlugs: input.agent_slugs,
          models: input.models ?? [],
          waitMs: input.wait_ms ?? 0,
          repollMs: ctx.deps.env.OPS_DISPATCH_REPOLL_MS,
        },
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
  },
  alerts: {
    list: ({ ctx, input }) => listAlerts(ctx.db, ctx.principal, input),
    resolve: ({ ctx, input }) => resolveAlert(ctx.db, ctx.principal, input.id, ctx.ip),
  },
  audit: {
    list: async ({ ctx, input }) => {
      const rows = await ctx.db
        .select()
        .from(auditLog)
        .where(input.action ? eq(auditLog.action, input.action) : undefined)
        .orderBy(desc(auditLog.id))
        .limit(input.limit);
      return rows.map(toAuditDto);
    },
  },
};

/** A token set through the API replaces a generated one: drop the rotation warning. */
async function onServiceTokenChanged(db: Db, verifier: { invalidate(): void }) {
  verifier.invalidate();
  const flags = (await readSetting(db, GENERATED_DEFAULTS_KEY))?.split(",").filter((f) => f && f !== "service_token") ?? [];
  await writeRawSetting(db, GENERATED_DEFAULTS_KEY, flags.join(","), "system");
}

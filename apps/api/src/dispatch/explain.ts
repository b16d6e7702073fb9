import { IN_FLIGHT_STATUSES, isStatusIn, type TDispatchReasonCode, type TMessageParams, type TProblem } from "@ops/contract";
import { agents, type Db, queryRows, workspaces } from "@ops/db";
import { eq, sql } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import { readDispatchSettings } from "../domain/settings.ts";
import { getTaskFor } from "../domain/task-rows.ts";
import { countInFlight } from "./claim.ts";
import { listFreshWorkers } from "./health.ts";
import { workerAcceptsModel } from "./model-match.ts";

/** Workers a reason names before it counts the rest. */
const LISTED_WORKERS = 5;

/**
 * Why a task is or is not being dispatched right now, in the order an operator
 * would check: status, gate, block, agent, dispatch switch, workers, caps.
 */
export async function explainDispatch(db: Db, principal: Principal, id: number) {
  const task = await getTaskFor(db, principal, id);
  const settings = await readDispatchSettings(db);
  const reasons: TProblem[] = [];
  const add = (code: TDispatchReasonCode, message: string, params: TMessageParams = {}) => reasons.push({ code, message, params });

  if (task.archivedAt) add("ARCHIVED", "the task is archived");
  if (task.status !== "queued") {
    const inFlight = isStatusIn(IN_FLIGHT_STATUSES, task.status);
    add(
      "NOT_QUEUED",
      inFlight ? `the task is already ${task.status} on ${task.claimedBy ?? "a worker"}` : `the task is ${task.status}, not queued; dispatch it first`,
      { status: task.status, in_flight: inFlight, worker: task.claimedBy },
    );
  }
  if (task.execution !== "interactive") add("NOT_INTERACTIVE", "the task is manual; only interactive tasks are dispatched");
  if (task.sensitive && !task.approvedAt) add("HUMAN_GATE", "sensitive task waiting for an admin's approval (Human Gate)");
  if (task.blocked) add("BLOCKED", `the task is blocked: ${task.blockedReason ?? "no reason given"}`, { blocked_reason: task.blockedReason });
  const [agent] = task.agentId === null ? [] : await db.select().from(agents).where(eq(agents.id, task.agentId));
  if (!agent) add("NO_AGENT", "the task has no agent");
  else if (!agent.active) add("AGENT_INACTIVE", `agent ${agent.slug} is inactive`, { agent: agent.slug });
  if (!settings.dispatchEnabled) add("DISPATCH_DISABLED", "dispatch_enabled is false: launchers receive no work");
  const [workspace] = await db.select({ enabled: workspaces.dispatchEnabled }).from(workspaces).where(eq(workspaces.id, task.workspaceId));
  if (workspace && !workspace.enabled) {
    add("WORKSPACE_DISPATCH_DISABLED", `dispatch is paused for workspace ${task.workspaceId}: its admins switched it off`, { workspace_id: task.workspaceId });
  }

  if (agent) {
    const fresh = await listFreshWorkers(db, settings.workerStaleSeconds);
    const serving = fresh.filter((w) => w.workspace_ids === null || w.workspace_ids.includes(task.workspaceId));
    const withSlug = serving.filter((w) => w.agent_slugs.includes(agent.slug));
    const withModel = withSlug.filter((w) => workerAcceptsModel(task.model, w.models));
    if (fresh.length > 0 && serving.length === 0) {
      add("NO_WORKER_FOR_WORKSPACE", `no fresh worker serves workspace ${task.workspaceId}`, { workspace_id: task.workspaceId });
    } else if (withSlug.length === 0) {
      add("NO_WORKER_FOR_AGENT", `no fresh worker reports agent ${agent.slug} as usable (${fresh.length} fresh worker(s))`, {
        agent: agent.slug,
        fresh_workers: fresh.length,
      });
      // Why not, in the launchers' own words: "codex on vm-launcher: not authenticated (...)";
      // a few workers by id, then how many more (a fleet is not thousands of lines, issue 12).
      const unusable = fresh.flatMap((w) => {
        const runtime = w.runtimes.find((r) => r.slug === agent.slug);
        return runtime && runtime.state !== "usable" ? [{ worker: w.worker_id, runtime }] : [];
      });
      for (const { worker, runtime } of unusable.slice(0, LISTED_WORKERS)) {
        add("RUNTIME_NOT_USABLE", `${agent.slug} on ${worker}: ${runtime.state.replace("_", " ")}${runtime.reason ? ` (${runtime.reason})` : ""}`, {
          slug: agent.slug,
          worker,
          state: runtime.state,
          reason: runtime.reason,
        });
      }
      const more = unusable.length - LISTED_WORKERS;
      if (more > 0) add("RUNTIME_NOT_USABLE_MORE", `and ${more.toLocaleString("en-US")} more worker(s) where ${agent.slug} is not usable`, { slug: agent.slug, count: more });
    } else if (withModel.length === 0) {
      const filters = [...new Set(withSlug.flatMap((w) => w.models))];
      add("NO_WORKER_FOR_MODEL", `no fresh worker with ${agent.slug} has a model filter matching ${task.model} (filters: ${filters.join(", ") || "none"})`, {
        agent: agent.slug,
        model: task.model,
        filters,
      });
    } else if (withModel.every((w) => w.free_slots === 0)) {
      const listed = withModel.slice(0, LISTED_WORKERS).map((w) => w.worker_id);
      const more = withModel.length - listed.length;
      add("NO_FREE_SLOT", `every matching worker is busy (${listed.join(", ")}${more > 0 ? `, and ${more.toLocaleString("en-US")} more` : ""})`, {
        workers: listed,
        ...(more > 0 ? { more } : {}),
      });
    }
    const { total, bySlug } = await countInFlight(db);
    if (settings.maxConcurrent > 0 && total >= settings.maxConcurrent) {
      add("CAPACITY", `global cap reached: ${total} of ${settings.maxConcurrent} tasks in flight`, { running: total, cap: settings.maxConcurrent, agent: null });
    }
    const cap = settings.agentCaps[agent.slug];
    const running = bySlug.get(agent.slug) ?? 0;
    if (cap !== undefined && running >= cap) {
      add("CAPACITY", `agent cap reached: ${running} of ${cap} ${agent.slug} tasks in flight`, { running, cap, agent: agent.slug });
    }
  }
  const dispatchableNow = reasons.length === 0;
  if (dispatchableNow && task.status === "queued") {
    const [ahead] = await queryRows<{ n: number }>(
      db,
      sql`select count(*)::int as n from tasks where workspace_id = ${task.workspaceId} and status = 'queued' and archived_at is null and agent_id = ${task.agentId}
          and (priority > ${task.priority} or (priority = ${task.priority}
               and (queued_at, id) < (select queued_at, id from tasks where id = ${task.id})))`,
    );
    const n = Number(ahead?.n ?? 0);
    if (n > 0) add("QUEUED_BEHIND", `${n} task(s) for ${task.agentSlug} are ahead of it in the queue`, { count: n, agent: task.agentSlug });
  }
  return {
    task_id: task.id,
    status: task.status,
    dispatchable_now: dispatchableNow,
    reasons,
  };
}

import type { AppRouter } from "@ops/contract";
import { TRPCClientError, type TRPCLink } from "@trpc/client";
import { observable } from "@trpc/server/observable";
import { configure, render } from "@testing-library/react";
import { App } from "../App.tsx";
import type { Lang } from "../i18n/index.tsx";

// Pages load on demand (React.lazy): their first import is transformed on the fly, which takes longer than
// testing-library's default second when the machine is busy with other suites. Every page test renders through here.
configure({ asyncUtilTimeout: 15_000 });

/** Handlers declare the input they expect; the fake passes what the app sent. */
export type Handler = (input: never) => unknown;
export type Handlers = Record<string, Handler>;
export interface Call {
  path: string;
  input: unknown;
}

const HTTP: Record<string, [string, number]> = {
  UNAUTHORIZED: ["UNAUTHORIZED", 401],
  FORBIDDEN: ["FORBIDDEN", 403],
  NOT_FOUND: ["NOT_FOUND", 404],
  VALIDATION: ["BAD_REQUEST", 400],
};

/** An error shaped like the API's: message, `data.opsCode`, `data.field`, `data.params`. */
export function opsError(opsCode: string, message: string, field?: string, params?: Record<string, unknown>) {
  const [code, httpStatus] = HTTP[opsCode] ?? ["CONFLICT", 409];
  return new TRPCClientError<AppRouter>(message, {
    result: { error: { message, code: -32000, data: { code, httpStatus, opsCode, ...(field ? { field } : {}), ...(params ? { params } : {}) } } } as never,
  });
}

/** A tRPC link that answers from handlers keyed by procedure path ("dispatch.health"). */
export function fakeLink(handlers: Handlers, calls: Call[]): TRPCLink<AppRouter> {
  return () =>
    ({ op }) =>
      observable((observer) => {
        calls.push({ path: op.path, input: op.input });
        Promise.resolve()
          .then(() => {
            const handler = handlers[op.path];
            if (!handler) throw opsError("NOT_FOUND", `no fake for ${op.path}`);
            return handler(op.input as never);
          })
          .then((data) => {
            observer.next({ result: { type: "data", data } });
            observer.complete();
          })
          .catch((error: unknown) => observer.error(error instanceof TRPCClientError ? error : TRPCClientError.from(error as Error)));
        return () => {};
      });
}

export const admin = { kind: "user" as const, id: 1, username: "admin", is_instance_admin: true, memberships: [{ workspace_id: 1, role: "admin" as const }] };
export const member = { kind: "user" as const, id: 2, username: "ana", is_instance_admin: false, memberships: [{ workspace_id: 1, role: "member" as const }] };

export function health(overrides: Record<string, unknown> = {}) {
  return {
    ok: true,
    dispatch_enabled: false,
    problems: [],
    worker_summary: { total: 0, fresh: 0, stale: 0 },
    workers: [],
    workers_total: 0,
    workers_next_cursor: null,
    agent_coverage: [],
    queue: { queued: 0, dispatching: 0, doing: 0, stale_dispatching: 0, blocked: 0 },
    dispatching: [],
    open_alerts: 0,
    thresholds: { dispatch_stale_minutes: 20, dispatch_worker_stale_seconds: 90, dispatch_max_concurrent: 0 },
    active_agents: ["codex", "opencode"],
    server_time: new Date().toISOString(),
    ...overrides,
  };
}

export const baseHandlers: Handlers = {
  "auth.me": () => admin,
  "workspaces.list": () => [{ id: 1, name: "Default", role: "admin" }],
  "dispatch.health": () => health(),
  "dispatch.workers": () => ({ workers: [], total: 0, next_cursor: null }),
  "alerts.list": () => [],
  "tasks.list": () => ({ tasks: [], total: 0 }),
  "agents.list": () => [],
  "dispatch.workspaces": () => [{ workspace_id: 1, name: "Default", dispatch_enabled: true, fresh_workers: 1, queued: 0 }],
  "workers.listTokens": () => [],
  "runs.list": () => [],
};

export function task(overrides: Record<string, unknown> = {}) {
  const now = new Date().toISOString();
  return {
    id: 7,
    workspace_id: 1,
    title: "Revisar despliegue",
    description: "",
    status: "backlog",
    execution: "interactive",
    agent_id: 3,
    agent_slug: "codex",
    model: null,
    priority: 0,
    working_dir: null,
    sensitive: false,
    approved_at: null,
    approved_by: null,
    blocked: false,
    blocked_reason: null,
    dispatch_output: null,
    claimed_by: null,
    claimed_at: null,
    claim_attempt: 0,
    queued_at: null,
    started_at: null,
    finished_at: null,
    failure_count: 0,
    cancel_requested_at: null,
    archived: false,
    created_by: "admin",
    created_at: now,
    updated_at: now,
    ...overrides,
  };
}

/** Renders the whole app at `path` against fake handlers; returns the calls it made. */
export function renderApp(path: string, handlers: Handlers, lang: Lang = "es") {
  window.history.replaceState(null, "", path);
  const calls: Call[] = [];
  const view = render(<App links={[fakeLink({ ...baseHandlers, ...handlers }, calls)]} lang={lang} />);
  return { ...view, calls };
}

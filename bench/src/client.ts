import type { AppRouter } from "@ops/contract";
import { createTRPCClient, httpLink } from "@trpc/client";

/** What a worker says to the dispatch API: the launcher's calls, nothing else. */
export interface DispatchClient {
  kind: "rest" | "trpc";
  next(input: { worker_id: string; agent_slugs: string[]; wait_ms?: number }): Promise<any>;
  started(input: { id: number; worker_id: string; attempt: number; pid: number; command: string[]; log_path: string; err_log_path: string }): Promise<any>;
  finished(input: { id: number; worker_id: string; attempt: number; exit_code: number; duration_ms: number }): Promise<any>;
  heartbeat(input: {
    worker_id: string;
    hostname: string;
    pid: number;
    version: string;
    agent_slugs: string[];
    models: string[];
    running_task_ids: number[];
    free_slots: number;
  }): Promise<any>;
  health(): Promise<any>;
}

export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {
    super(`HTTP ${status}: ${JSON.stringify(body)}`);
  }
}

/** REST over the documented /api paths (what curl and scripts use). */
export function restClient(apiBase: string, token: string): DispatchClient & { call(method: string, path: string, body?: unknown): Promise<any> } {
  const headers = { "x-ops-service-token": token, "content-type": "application/json" };
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${apiBase}${path}`, {
      method,
      headers: body === undefined ? { "x-ops-service-token": token } : headers,
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    const parsed = text ? JSON.parse(text) : undefined;
    if (!res.ok) throw new HttpError(res.status, parsed);
    return parsed;
  };
  return {
    kind: "rest",
    call,
    next: (input) => call("POST", "/dispatch/next", input),
    started: ({ id, ...rest }) => call("POST", `/dispatch/tasks/${id}/started`, rest),
    finished: ({ id, ...rest }) => call("POST", `/dispatch/tasks/${id}/finished`, rest),
    heartbeat: (input) => call("POST", "/dispatch/heartbeat", input),
    health: () => call("GET", "/dispatch/health"),
  };
}

/** The typed tRPC client the launcher uses (httpLink, one request per call). */
export function trpcClient(baseUrl: string, token: string): DispatchClient {
  const client = createTRPCClient<AppRouter>({
    links: [httpLink({ url: `${baseUrl}/trpc`, headers: { "x-ops-service-token": token } })],
  });
  const d = client.dispatch as any;
  return {
    kind: "trpc",
    next: (input) => d.next.mutate(input),
    started: (input) => d.started.mutate(input),
    finished: (input) => d.finished.mutate(input),
    heartbeat: (input) => d.heartbeat.mutate(input),
    health: () => d.health.query({}),
  };
}

export const heartbeatBody = (workerId: string, running: number[] = []) => ({
  worker_id: workerId,
  hostname: `bench-${workerId}`,
  pid: process.pid,
  version: "bench",
  agent_slugs: ["opencode"],
  models: [],
  running_task_ids: running,
  free_slots: 1,
});

import type { AppRouter } from "@ops/contract";
import { Agent, request } from "node:http";
import { createTRPCClient } from "@trpc/client";
import type { inferRouterInputs } from "@trpc/server";
// The launcher's own link and transport, so this row measures what launchers do.
import { launcherLink } from "../../apps/launcher/src/trpc-link.ts";

type DispatchInputs = inferRouterInputs<AppRouter>["dispatch"];

/** What a worker says to the dispatch API: the launcher's calls, nothing else. */
export interface DispatchClient {
  kind: "rest" | "trpc";
  next(input: DispatchInputs["next"]): Promise<any>;
  started(input: DispatchInputs["started"]): Promise<any>;
  finished(input: DispatchInputs["finished"]): Promise<any>;
  heartbeat(input: DispatchInputs["heartbeat"]): Promise<any>;
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

/**
 * REST over the documented /api paths (what curl and scripts use), on
 * node:http with a keep-alive agent: the lightest client Node has, so the
 * REST row charges the API, not the benchmark's own HTTP stack.
 */
export function restClient(apiBase: string, token: string): DispatchClient & { call(method: string, path: string, body?: unknown): Promise<any> } {
  const base = new URL(apiBase);
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<any>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(
        {
          agent,
          host: base.hostname,
          port: base.port,
          method,
          path: `${base.pathname}${path}`,
          headers: {
            "x-ops-service-token": token,
            ...(payload !== undefined ? { "content-type": "application/json", "content-length": Buffer.byteLength(payload) } : {}),
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            try {
              const parsed = text ? JSON.parse(text) : undefined;
              if ((res.statusCode ?? 500) >= 400) reject(new HttpError(res.statusCode ?? 500, parsed));
              else resolve(parsed);
            } catch (e) {
              reject(e);
            }
          });
          res.on("error", reject);
        },
      );
      req.on("error", reject);
      req.end(payload);
    });
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

/** The typed tRPC client the launcher uses (its link over node:http keep-alive, one request per call). */
export function trpcClient(baseUrl: string, token: string): DispatchClient {
  const client = createTRPCClient<AppRouter>({
    links: [launcherLink({ url: `${baseUrl}/trpc`, headers: { "x-ops-service-token": token } })],
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

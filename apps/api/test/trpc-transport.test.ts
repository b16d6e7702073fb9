import { SERVICE_TOKEN_HEADER } from "@ops/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SERVICE_TOKEN, startTestApi, type TestApi } from "./harness.ts";

// apps/api/src/trpc/fastify.ts answers a single tRPC call itself (issue 12:
// the launcher's lifecycle cost ~60% more than REST) and everything else
// through tRPC's resolveResponse. A `trpc-accept` header sends any call down
// the resolveResponse path, so each case here is asked both ways: status,
// content type and body must be the same, byte for byte.

let api: TestApi;

beforeAll(async () => {
  api = await startTestApi("postgres");
});
afterAll(async () => api?.close());

const service = { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN };
const heartbeat = { worker_id: "tr-1", hostname: "h", pid: 1, version: "t", agent_slugs: ["codex"], free_slots: 1 };

async function both(method: "GET" | "POST", path: string, init: { body?: string; headers?: Record<string, string> } = {}) {
  const ask = async (extra: Record<string, string>) => {
    const res = await fetch(`${api.baseUrl}/trpc/${path}`, {
      method,
      headers: { ...(init.body !== undefined ? { "content-type": "application/json" } : {}), ...init.headers, ...extra },
      ...(init.body !== undefined ? { body: init.body } : {}),
    });
    return {
      status: res.status,
      type: res.headers.get("content-type"),
      vary: res.headers.get("vary"),
      length: res.headers.get("content-length"),
      chunked: res.headers.get("transfer-encoding"),
      body: await res.text(),
    };
  };
  const fast = await ask({});
  const stock = await ask({ "trpc-accept": "application/json" });
  return { fast, stock };
}

describe("the tRPC route's single-call path answers as resolveResponse does", () => {
  const cases: [string, "GET" | "POST", string, { body?: string; headers?: Record<string, string> }, number][] = [
    ["a mutation", "POST", "dispatch.heartbeat", { body: JSON.stringify(heartbeat), headers: service }, 200],
    ["a query", "GET", `auth.me?input=${encodeURIComponent("{}")}`, { headers: service }, 200],
    ["a query missing its input object", "GET", "auth.me", { headers: service }, 400],
    ["a query with input", "GET", `dispatch.workers?input=${encodeURIComponent(JSON.stringify({ limit: 5 }))}`, { headers: service }, 200],
    ["a validation error naming the field", "POST", "dispatch.heartbeat", { body: JSON.stringify({ ...heartbeat, pid: -1 }), headers: service }, 400],
    ["a query's bad input", "GET", `dispatch.workers?input=${encodeURIComponent(JSON.stringify({ limit: 0 }))}`, { headers: service }, 400],
    ["a refused report (no such claim)", "POST", "dispatch.finished", { body: JSON.stringify({ id: 999999, worker_id: "tr-1", attempt: 1, exit_code: 0, duration_ms: 1 }), headers: service }, 404],
    ["no credential", "POST", "dispatch.heartbeat", { body: JSON.stringify(heartbeat) }, 401],
    ["a wrong token", "GET", `auth.me?input=${encodeURIComponent("{}")}`, { headers: { [SERVICE_TOKEN_HEADER]: "wrong-token-0123456789abcdefghij" } }, 401],
  ];
  for (const [name, method, path, init, status] of cases) {
    it(name, async () => {
      const { fast, stock } = await both(method, path, init);
      expect(fast.status).toBe(status);
      expect({ ...fast, length: null }).toEqual({ ...stock, length: null });
      // One buffer with its length, never a chunked stream.
      expect(fast.chunked).toBeNull();
      expect(Number(fast.length)).toBe(Buffer.byteLength(fast.body));
    });
  }

  it("leaves what it does not handle to resolveResponse: batches, the wrong method, unknown paths, bad JSON", async () => {
    const batch = await fetch(`${api.baseUrl}/trpc/auth.me,dispatch.workers?batch=1&input=${encodeURIComponent(JSON.stringify({ 1: { limit: 1 } }))}`, { headers: service });
    const answers = (await batch.json()) as { result?: unknown; error?: unknown }[];
    expect(answers, JSON.stringify(answers)).toHaveLength(2);
    expect(answers[1]!.result, JSON.stringify(answers)).toBeDefined();
    for (const [method, path, body, status] of [
      ["GET", "dispatch.heartbeat", undefined, 405],
      ["POST", "auth.me", "{}", 405],
      ["POST", "no.such.procedure", "{}", 404],
      ["POST", "dispatch.heartbeat", "{not json", 400],
    ] as const) {
      const res = await fetch(`${api.baseUrl}/trpc/${path}`, {
        method,
        headers: { ...service, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
        ...(body !== undefined ? { body } : {}),
      });
      expect(res.status, `${method} ${path}`).toBe(status);
      expect(((await res.json()) as { error?: unknown }).error, `${method} ${path}`).toBeDefined();
    }
  });

  it("serves the typed client (the launcher's calls) through it", async () => {
    const answer = await api.trpc.dispatch.heartbeat.mutate({ ...heartbeat, worker_id: "tr-2" });
    expect(answer.ok).toBe(true);
    const page = await api.trpc.dispatch.workers.query({ limit: 1 });
    expect(page.total).toBeGreaterThanOrEqual(1);
  });
});

import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApiClient, isRetryable, opsCodeOf } from "../src/api.ts";

// The launcher's typed client over its own link and node:http transport
// (issue 12): the same requests tRPC's httpLink sends, errors read the same
// way, and a redirect is never followed (the token would go along).

type Handler = (req: IncomingMessage, body: string, res: ServerResponse) => void;
let handler: Handler = () => {};
const seen: { method: string; url: string; headers: IncomingMessage["headers"]; body: string }[] = [];
let server: Server;
let elsewhere: Server;
let elsewhereHits = 0;
let base = "";
let elsewhereBase = "";

const listen = (s: Server) => new Promise<string>((r) => s.listen(0, "127.0.0.1", () => r(`http://127.0.0.1:${(s.address() as AddressInfo).port}`)));

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = "";
    req.on("data", (c) => (body += c));
    req.on("end", () => {
      seen.push({ method: req.method ?? "", url: req.url ?? "", headers: req.headers, body });
      handler(req, body, res);
    });
  });
  elsewhere = createServer((_req, res) => {
    elsewhereHits++;
    res.end("{}");
  });
  base = await listen(server);
  elsewhereBase = await listen(elsewhere);
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await new Promise((r) => elsewhere.close(r));
});

const json = (res: ServerResponse, status: number, value: unknown) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(value));
};

describe("the launcher's typed client", () => {
  it("sends a mutation as a JSON POST and a query as GET ?input=, with its credential header, and reads the data", async () => {
    const api = createApiClient(`${base}/trpc`, { header: "x-ops-worker-token", token: "the-token-0123456789abcdef" });
    seen.length = 0;
    handler = (_req, _body, res) => json(res, 200, { result: { data: { ok: true, worker_stale_seconds: 90, stop_task_ids: [], stop_tasks: [] } } });
    const beat = await api.dispatch.heartbeat.mutate({ worker_id: "w1", hostname: "h", pid: 1, version: "v", agent_slugs: ["codex"], free_slots: 1 });
    expect(beat.worker_stale_seconds).toBe(90);
    handler = (_req, _body, res) => json(res, 200, { result: { data: [] } });
    expect(await api.dispatch.agents.query({})).toEqual([]);
    expect(seen.map((s) => [s.method, s.url])).toEqual([
      ["POST", "/trpc/dispatch.heartbeat"],
      ["GET", `/trpc/dispatch.agents?input=${encodeURIComponent("{}")}`],
    ]);
    expect(JSON.parse(seen[0]!.body)).toMatchObject({ worker_id: "w1", agent_slugs: ["codex"] });
    expect(seen[0]!.headers["content-type"]).toBe("application/json");
    expect(seen.every((s) => s.headers["x-ops-worker-token"] === "the-token-0123456789abcdef")).toBe(true);
    // Keep-alive: both calls rode one connection.
    expect(seen.every((s) => s.headers.connection === "keep-alive")).toBe(true);
  });

  it("turns the API's error into a TRPCClientError with its ops code (a 4xx is final, a 5xx retried)", async () => {
    const api = createApiClient(`${base}/trpc`, { header: "x-ops-worker-token", token: "t" });
    handler = (_req, _body, res) =>
      json(res, 409, { error: { message: "stale claim", code: -32603, data: { code: "CONFLICT", httpStatus: 409, path: "dispatch.finished", opsCode: "STALE_CLAIM" } } });
    const refused = await api.dispatch.finished.mutate({ id: 1, worker_id: "w1", attempt: 1, exit_code: 0, duration_ms: 1 }).catch((e: unknown) => e);
    expect(opsCodeOf(refused)).toBe("STALE_CLAIM");
    expect(isRetryable(refused)).toBe(false);
    expect((refused as Error).message).toBe("stale claim");

    handler = (_req, _body, res) => {
      res.writeHead(502, { "content-type": "text/html" });
      res.end("<html>bad gateway</html>");
    };
    const proxy = await api.dispatch.agents.query({}).catch((e: unknown) => e);
    expect(opsCodeOf(proxy)).toBeUndefined();
    expect(isRetryable(proxy)).toBe(true);
  });

  it("refuses a redirect, naming where it pointed, and never sends the token there", async () => {
    const api = createApiClient(`${base}/trpc`, { header: "x-ops-worker-token", token: "secret-token-0123456789abcdef" });
    handler = (_req, _body, res) => {
      res.writeHead(307, { location: `${elsewhereBase}/trpc/dispatch.heartbeat?x=1` });
      res.end();
    };
    const error = await api.dispatch.heartbeat
      .mutate({ worker_id: "w1", hostname: "h", pid: 1, version: "v", agent_slugs: ["codex"], free_slots: 1 })
      .catch((e: unknown) => e as Error);
    expect((error as Error).message).toContain(`the API answered 307 redirecting to ${elsewhereBase}/trpc/dispatch.heartbeat`);
    expect((error as Error).message).toContain("does not follow redirects");
    expect(elsewhereHits).toBe(0);
  });

  it("gives up on an aborted call", async () => {
    const api = createApiClient(`${base}/trpc`, { header: "x-ops-worker-token", token: "t" });
    handler = () => {}; // never answers
    const ac = new AbortController();
    const call = api.dispatch.agents.query({}, { signal: ac.signal }).catch((e: unknown) => e);
    setTimeout(() => ac.abort(), 50);
    const error = await call;
    expect(error).toBeInstanceOf(Error);
    expect(isRetryable(error)).toBe(true);
  });
});

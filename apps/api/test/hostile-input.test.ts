import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DB_KINDS, SERVICE_TOKEN, sqlRows, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: OpenAPI documents and bodies are walked dynamically
type Json = any;

interface Operation {
  method: string;
  path: string;
  pathParams: string[];
  properties: Record<string, Json>;
  isGet: boolean;
}

/** Rotating the token would lock the rest of the run out; it has its own tests. */
const NOT_FUZZED = new Set(["POST /settings/service_api_token/rotate"]);
const KNOWN_KEYS = ["dispatch_enabled", "dispatch_stale_minutes", "dispatch_agent_caps", "no_such_setting"];

const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.constantFrom(
    "", " ", "-1", "0", "1e309", "NaN", "Infinity", "null", "true", "[]", "{}", "../../etc/passwd", "%00", "\u0000",
    "' or 1=1 --", "$(touch /tmp/ops-pwned)", "`id`", "; rm -rf /", "--help", "\uD800", "\u202Eevil", "9".repeat(400),
    "2147483648", "-2147483649", "1.5", "0x10", ...KNOWN_KEYS,
  ),
  fc.string({ minLength: 20_000, maxLength: 30_000 }),
);
const hostileValue: fc.Arbitrary<Json> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.constantFrom(-1, 0, 2 ** 31, 2 ** 53, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER),
  fc.boolean(),
  fc.constant(null),
  fc.array(fc.jsonValue({ maxDepth: 3 }), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
  fc.constant(JSON.parse(`${"[".repeat(500)}${"]".repeat(500)}`)),
);

function operations(doc: Json): Operation[] {
  const out: Operation[] = [];
  for (const [path, methods] of Object.entries<Json>(doc.paths)) {
    for (const [method, op] of Object.entries<Json>(methods)) {
      const upper = method.toUpperCase();
      if (NOT_FUZZED.has(`${upper} ${path}`)) continue;
      const pathParams = (op.parameters ?? []).filter((p: Json) => p.in === "path").map((p: Json) => p.name);
      const properties =
        upper === "GET"
          ? Object.fromEntries((op.parameters ?? []).filter((p: Json) => p.in === "query").map((p: Json) => [p.name, p.schema]))
          : (op.requestBody?.content?.["application/json"]?.schema?.properties ?? {});
      out.push({ method: upper, path, pathParams, properties, isGet: upper === "GET" });
    }
  }
  return out;
}

describe.each(DB_KINDS)("hostile input on every REST endpoint (%s)", (kind) => {
  let api: TestApi;
  let ops: Operation[];
  const tally = { requests: 0, fiveHundreds: 0 };

  beforeAll(async () => {
    api = await startTestApi(kind);
    ops = operations((await api.rest("GET", "/openapi.json")).body);
    // Something for ids to hit.
    await api.rest("POST", "/tasks", { title: "fuzz target", execution: "interactive", agent_slug: "codex" });
  });
  afterAll(async () => {
    console.log(`[hostile-input ${kind}] ${tally.requests} requests, ${tally.fiveHundreds} 5xx`);
    await api?.close();
  });

  /** Everything a 4xx must leave alone (audit and sessions excluded: failed sign-ins are audited by design). */
  const fingerprint = async () =>
    JSON.stringify(
      await sqlRows(
        api,
        `select (select count(*) from tasks) as tasks, (select max(updated_at)::text from tasks) as tasks_at,
                (select count(*) from agents) as agents, (select max(updated_at)::text from agents) as agents_at,
                (select string_agg(key || '=' || value, ',' order by key) from ops_settings) as settings,
                (select count(*) from task_context) as ctx, (select count(*) from task_comments) as comments,
                (select count(*) from time_logs) as time, (select count(*) from system_alerts) as alerts,
                (select max(last_seen_at)::text from worker_heartbeats) as workers, (select count(*) from users) as users`,
      ),
    );

  async function send(method: string, url: string, init: { body?: string | Buffer; contentType?: string }) {
    const before = await fingerprint();
    const res = await fetch(url, {
      method,
      headers: { "x-ops-service-token": SERVICE_TOKEN, ...(init.contentType ? { "content-type": init.contentType } : {}) },
      ...(init.body !== undefined && method !== "GET" ? { body: init.body } : {}),
    });
    const text = await res.text();
    tally.requests++;
    if (res.status >= 500) tally.fiveHundreds++;
    const where = `${method} ${url.slice(0, 200)} → ${res.status} ${text.slice(0, 300)}`;
    expect(res.status, where).toBeLessThan(500);
    expect(text, where).not.toMatch(/\bat [\w.<>]+ \(|\.ts:\d+:\d+|node_modules/);
    expect(text, where).not.toContain(SERVICE_TOKEN);
    if (res.status >= 400) expect(await fingerprint(), `${where} changed state`).toBe(before);
    return res.status;
  }

  it("never answers 5xx, a stack trace or a state change to generated hostile inputs", async () => {
    for (const op of ops) {
      const pathArb = fc.record(Object.fromEntries(op.pathParams.map((p) => [p, hostileString])) as Record<string, fc.Arbitrary<string>>);
      const bodyArb = fc.oneof(
        fc.record(Object.fromEntries(Object.keys(op.properties).map((k) => [k, hostileValue])), { requiredKeys: [] }),
        fc.dictionary(fc.string({ maxLength: 12 }), hostileValue, { maxKeys: 6 }),
        hostileValue,
      );
      await fc.assert(
        fc.asyncProperty(pathArb, bodyArb, async (params, body) => {
          let path = op.path;
          for (const p of op.pathParams) path = path.replace(`{${p}}`, encodeURIComponent(String(params[p]).slice(0, 180) || "x"));
          if (op.path === "/dispatch/next" && body && typeof body === "object" && !Array.isArray(body)) delete body.wait_ms;
          if (op.isGet) {
            const query = body && typeof body === "object" && !Array.isArray(body)
              ? `?${new URLSearchParams(Object.entries(body).map(([k, v]): [string, string] => [k, typeof v === "string" ? v.slice(0, 2000) : String(JSON.stringify(v))]))}`
              : "";
            await send("GET", `${api.apiBase}${path}${query}`, {});
          } else {
            await send(op.method, `${api.apiBase}${path}`, { body: JSON.stringify(body), contentType: "application/json" });
          }
        }),
        { numRuns: 25, seed: 4242, endOnFailure: true },
      );
    }
    // 25 runs per endpoint, two state fingerprints each: the time grows with the REST surface.
  }, 240_000);

  it("refuses malformed JSON, bad UTF-8, wrong content types, oversized and deeply nested bodies", async () => {
    const bodies: Array<[string, string | Buffer, string]> = [
      ["malformed JSON", '{"title": "x",', "application/json"],
      ["bad UTF-8", Buffer.from([0x7b, 0x22, 0x74, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), "application/json"],
      ["wrong content type", '{"title":"x"}', "text/plain"],
      ["form content type", "title=x", "application/x-www-form-urlencoded"],
      ["oversized body", JSON.stringify({ title: "x", description: "y".repeat(2 * 1024 * 1024) }), "application/json"],
      ["deep JSON", `${'{"a":'.repeat(100_000)}1${"}".repeat(100_000)}`, "application/json"],
      ["array body", "[1,2,3]", "application/json"],
      ["scalar body", '"just a string"', "application/json"],
    ];
    for (const op of ops.filter((o) => !o.isGet)) {
      const path = op.path.replace(/\{(\w+)\}/g, "1");
      for (const [label, body, contentType] of bodies) {
        const status = await send(op.method, `${api.apiBase}${path}`, { body, contentType });
        expect(status, `${label} to ${op.method} ${path}`).toBeGreaterThanOrEqual(400);
      }
    }
  });
});

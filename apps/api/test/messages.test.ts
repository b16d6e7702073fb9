import { DISPATCH_REASON_CODES, HEALTH_PROBLEM_CODES } from "@ops/contract";
import { TRPCClientError } from "@trpc/client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlRows, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are read field by field
type Body = any;

// The API answers with stable codes and the parameters the app words them
// with, on both transports, beside its English message for curl users.

describe("codes and parameters", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi("pglite");
  });
  afterAll(async () => api?.close());

  it("a refused setting: REST body {error:{code,message,field,params}} and tRPC data {opsCode,field,params}", async () => {
    const rest = await api.rest("PUT", "/settings/dispatch_worker_stale_seconds", { value: "5" });
    expect(rest.status).toBe(400);
    expect(rest.body).toEqual({
      error: {
        code: "VALIDATION",
        message: "dispatch_worker_stale_seconds must be a whole number between 10 and 86400",
        field: "value",
        params: { field: "value", reason: "setting_int_range", key: "dispatch_worker_stale_seconds", min: 10, max: 86400 },
      },
    });
    const refused = await api.trpc.settings.put.mutate({ key: "dispatch_worker_stale_seconds", value: "5" }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(TRPCClientError);
    expect((refused as TRPCClientError<never>).data).toMatchObject({
      opsCode: "VALIDATION",
      field: "value",
      params: { reason: "setting_int_range", min: 10, max: 86400 },
    });
  });

  it("input validation names zod's rule and the limit", async () => {
    const res = await api.rest("POST", "/tasks", { title: "x".repeat(501) });
    expect(res.body.error).toMatchObject({ code: "VALIDATION", field: "title", params: { reason: "too_long", field: "title", maximum: 500 } });
  });

  it("Reconciliar stale refuses 0 minutes (live claims of fresh workers), unless the tasks are named", async () => {
    const zero = await api.rest("POST", "/dispatch/reconcile-stale", { minutes: 0 });
    expect(zero.status).toBe(400);
    expect(zero.body.error).toMatchObject({ code: "VALIDATION", field: "minutes", params: { reason: "reconcile_minutes", min: 1 } });
    expect((await api.rest("POST", "/dispatch/reconcile-stale", { minutes: 1 })).status).toBe(200);
    expect((await api.rest("GET", "/dispatch/reconcile-stale/preview?minutes=0")).status).toBe(400);
    expect((await api.rest("GET", "/dispatch/reconcile-stale/preview?minutes=5")).body).toEqual({ stale_minutes: 5, tasks: [] });
  });

  it("health problems carry {code, message, params}", async () => {
    await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    await api.rest("POST", "/dispatch/heartbeat", { worker_id: "w-msg", hostname: "h", pid: 1, version: "v", agent_slugs: ["codex"], free_slots: 1 });
    const t = (await api.rest("POST", "/tasks", { title: "stuck", agent_slug: "codex", execution: "interactive" })).body;
    await sqlRows(api, `update tasks set status = 'dispatching', claimed_by = 'w-msg', claim_attempt = 1, claimed_at = now() - interval '30 minutes' where id = ${t.id}`);
    const health = (await api.rest("GET", "/dispatch/health")).body;
    const byCode = Object.fromEntries(health.problems.map((p: Body) => [p.code, p]));
    expect(byCode.STALE_DISPATCHING.params).toEqual({ count: 1, minutes: 20 });
    expect(byCode.AGENT_NOT_COVERED.params).toEqual({ agents: ["claudecode", "hermes", "opencode"] });
    for (const p of health.problems) {
      expect(HEALTH_PROBLEM_CODES).toContain(p.code);
      expect(typeof p.message).toBe("string");
    }
    await api.rest("POST", "/dispatch/reconcile-stale", { task_ids: [t.id], minutes: 0 });
    await api.rest("PUT", "/settings/dispatch_enabled", { value: "false" });
  });

  it("dispatch explanation reasons carry {code, message, params}", async () => {
    const t = (await api.rest("POST", "/tasks", { title: "why not", agent_slug: "hermes" })).body;
    const reasons = (await api.rest("GET", `/tasks/${t.id}/dispatch-explanation`)).body.reasons as Body[];
    expect(reasons.map((r) => r.code)).toEqual(["NOT_QUEUED", "NOT_INTERACTIVE", "DISPATCH_DISABLED", "NO_WORKER_FOR_AGENT"]);
    expect(reasons[0].params).toEqual({ status: "backlog", in_flight: false, worker: null });
    expect(reasons[3].params).toEqual({ agent: "hermes", fresh_workers: 1 });
    for (const r of reasons) expect(DISPATCH_REASON_CODES).toContain(r.code);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapCredentials } from "../src/auth/bootstrap.ts";
import { LOGIN_LIMITS } from "../src/auth/login.ts";
import { loadEnv } from "../src/env.ts";
import { createUser, SERVICE_TOKEN, sqlRows, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are checked field by field
type Body = any;

const loginAttempt = (api: TestApi, username: string, password: string, headers: Record<string, string> = {}) =>
  fetch(`${api.apiBase}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body: JSON.stringify({ username, password }),
  });

describe("security (TRUST_PROXY off)", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi("pglite");
  });
  afterAll(async () => api?.close());

  it("stores the service token hashed, never in clear", async () => {
    const rows = await sqlRows<{ value: string }>(api, "select value from ops_settings where key = 'service_api_token'");
    expect(rows[0]!.value).toMatch(/^[0-9a-f]{64}$/);
    expect(rows[0]!.value).not.toContain(SERVICE_TOKEN);
  });

  it("stores passwords with a memory-hard KDF", async () => {
    const rows = await sqlRows<{ password_hash: string }>(api, "select password_hash from users where username = 'admin'");
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$32768\$8\$1\$/);
  });

  it("rate-limits sign-in per user and audits the lockout, without saying whether the user exists", async () => {
    const victim = `victim-${Date.now()}`;
    await createUser(api, victim, "member");
    for (let i = 0; i < LOGIN_LIMITS.perUser; i++) {
      expect((await loginAttempt(api, victim, "wrong-password")).status).toBe(401);
    }
    const locked = await loginAttempt(api, victim, "member-password-123");
    expect(locked.status).toBe(429);
    expect(((await locked.json()) as Body).error.code).toBe("RATE_LIMITED");
    const audit = await sqlRows(api, `select action from audit_log where target_id = '${victim}' order by id`);
    expect(audit.filter((a: Body) => a.action === "auth.login_failed")).toHaveLength(LOGIN_LIMITS.perUser);
    expect(audit.at(-1)).toEqual({ action: "auth.login_locked" });
  });

  it("ignores a spoofed X-Forwarded-For when TRUST_PROXY is off", async () => {
    await loginAttempt(api, "spoof-off", "x", { "x-forwarded-for": "203.0.113.9" });
    const rows = await sqlRows<{ ip: string }>(api, "select ip from audit_log where action = 'auth.login_failed' order by id desc limit 1");
    expect(rows[0]!.ip).toBe("127.0.0.1");
  });

  it("does not set Secure on plain HTTP, even when a header claims https", async () => {
    const res = await loginAttempt(api, "admin", "admin-password-for-tests", { "x-forwarded-proto": "https" });
    expect(res.headers.get("set-cookie")).not.toMatch(/Secure/);
  });

  it("revokes sessions when the admin password is rotated at start", async () => {
    const cookie = await api.login();
    expect((await api.restAs(cookie)("GET", "/auth/me")).status).toBe(200);
    const env = loadEnv({ OPS_DATA_DIR: "memory://", OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "a-brand-new-password", OPS_SERVICE_TOKEN: SERVICE_TOKEN });
    await bootstrapCredentials(api.database.db, env);
    expect((await api.restAs(cookie)("GET", "/auth/me")).status).toBe(401);
    expect((await loginAttempt(api, "admin", "admin-password-for-tests")).status).toBe(401);
    expect((await loginAttempt(api, "admin", "a-brand-new-password")).status).toBe(200);
    await bootstrapCredentials(api.database.db, loadEnv({ OPS_DATA_DIR: "memory://", OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "admin-password-for-tests", OPS_SERVICE_TOKEN: SERVICE_TOKEN }));
  });

  it("gives a dispatched agent a token scoped to its own task, revoked when the claim ends", async () => {
    await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    const mine = (await api.rest("POST", "/tasks", { title: "agent scope", execution: "interactive", agent_slug: "codex" })).body;
    const other = (await api.rest("POST", "/tasks", { title: "not yours", agent_slug: "codex" })).body;
    await api.rest("POST", `/tasks/${mine.id}/dispatch`);
    const claim = (await api.rest("POST", "/dispatch/next", { worker_id: "scope-w", agent_slugs: ["codex"] })).body;
    expect(claim.task.id).toBe(mine.id);
    const asAgent = api.restAs({ "x-ops-task-token": claim.task_token });
    expect((await asAgent("POST", `/tasks/${mine.id}/context`, { kind: "deliverable", body: "done: PR 1" })).body.source).toBe("ai");
    expect((await asAgent("POST", `/tasks/${mine.id}/comments`, { body: "see deliverable" })).status).toBe(200);
    expect((await asAgent("POST", `/tasks/${mine.id}/time-logs`, { minutes: 3 })).status).toBe(200);
    // Nothing beyond its own task (another answers as missing), and no powers of the service token.
    expect((await asAgent("GET", `/tasks/${other.id}`)).body.error).toEqual({ code: "NOT_FOUND", message: `task ${other.id} not found` });
    expect((await asAgent("POST", `/tasks/${other.id}/context`, { kind: "note", body: "x" })).status).toBe(404);
    expect((await asAgent("GET", "/tasks")).status).toBe(403);
    expect((await asAgent("PUT", "/settings/dispatch_enabled", { value: "false" })).status).toBe(403);
    expect((await asAgent("POST", "/dispatch/next", { worker_id: "x", agent_slugs: ["codex"] })).status).toBe(403);
    expect((await asAgent("PATCH", `/tasks/${mine.id}/status`, { status: "done" })).status).toBe(403);
    expect((await asAgent("PATCH", `/tasks/${mine.id}`, { title: "renamed" })).status).toBe(403);
    // The claim ends: the token stops working.
    await api.rest("POST", `/dispatch/tasks/${mine.id}/finished`, { worker_id: "scope-w", attempt: claim.attempt, exit_code: 0, duration_ms: 1 });
    const after = await asAgent("GET", `/tasks/${mine.id}`);
    expect(after.status).toBe(401);
  });

  it("sends security headers and a strict Content-Security-Policy", async () => {
    const res = await fetch(`${api.baseUrl}/`);
    const csp = res.headers.get("content-security-policy")!;
    expect(csp).toContain("default-src 'self'");
    expect(csp).toContain("script-src 'self'");
    expect(csp).not.toContain("unsafe-inline");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(res.headers.get("x-content-type-options")).toBe("nosniff");
    expect(res.headers.get("x-frame-options")).toBe("DENY");
    const apiRes = await fetch(`${api.apiBase}/auth/me`);
    expect(apiRes.headers.get("cache-control")).toBe("no-store");
  });

  it("never returns the token or a stack trace in an error", async () => {
    const res = await api.rest("GET", "/tasks/not-a-number");
    expect(res.status).toBe(400);
    const text = JSON.stringify(res.body);
    expect(text).not.toMatch(/at .*\.ts:\d+/);
    expect(text).not.toContain(SERVICE_TOKEN);
  });
});

describe("security (TRUST_PROXY on)", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi("pglite", { TRUST_PROXY: "true" });
  });
  afterAll(async () => api?.close());

  it("honours X-Forwarded-For from the proxy for audit and rate limits", async () => {
    await loginAttempt(api, "spoof-on", "x", { "x-forwarded-for": "203.0.113.9" });
    const rows = await sqlRows<{ ip: string }>(api, "select ip from audit_log where action = 'auth.login_failed' order by id desc limit 1");
    expect(rows[0]!.ip).toBe("203.0.113.9");
  });

  it("marks the session cookie Secure when the proxy says https", async () => {
    const res = await loginAttempt(api, "admin", "admin-password-for-tests", { "x-forwarded-proto": "https" });
    expect(res.headers.get("set-cookie")).toMatch(/Secure/);
  });
});

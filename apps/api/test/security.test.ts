import { request as httpRequest } from "node:http";
import { SERVICE_TOKEN_HEADER } from "@ops/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bootstrapCredentials } from "../src/auth/bootstrap.ts";
import { LOGIN_LIMITS, passwordChecks } from "../src/auth/login.ts";
import { loadEnv, startupWarnings } from "../src/env.ts";
import { BODY_LIMIT, trustProxyOption } from "../src/server.ts";
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

  it("limits sign-in per (user, client) with growing delays, without saying whether the user exists", async () => {
    await sqlRows(api, "delete from login_attempts");
    const victim = `victim-${Date.now()}`;
    await createUser(api, victim, "member");
    const free = LOGIN_LIMITS.perUserClient.free;
    // The free failures, then one more that is checked and starts the first delay.
    for (let i = 0; i < free + 1; i++) expect((await loginAttempt(api, victim, "wrong-password")).status).toBe(401);
    const locked = await loginAttempt(api, victim, "member-password-123");
    expect(locked.status).toBe(429);
    const body = (await locked.json()) as Body;
    expect(body.error.code).toBe("RATE_LIMITED");
    expect(body.error.params.retry_after_seconds).toBeGreaterThan(LOGIN_LIMITS.firstDelaySeconds / 2);
    expect(body.error.params.retry_after_seconds).toBeLessThanOrEqual(LOGIN_LIMITS.firstDelaySeconds);
    // An unknown user is limited the same way, and answered the same way.
    for (let i = 0; i < free + 1; i++) expect((await loginAttempt(api, `nobody-${victim}`, "x")).status).toBe(401);
    expect((await loginAttempt(api, `nobody-${victim}`, "x")).status).toBe(429);
    // The delay ran out (time travel): one more wrong guess locks for twice as long.
    await sqlRows(api, `update login_attempts set locked_until = now() - interval '1 second' where user_key = '${victim}'`);
    expect((await loginAttempt(api, victim, "wrong-again")).status).toBe(401);
    const longer = (await (await loginAttempt(api, victim, "member-password-123")).json()) as Body;
    expect(longer.error.params.retry_after_seconds).toBeGreaterThan(LOGIN_LIMITS.firstDelaySeconds);
    // Checked guesses are audited one row each; refused ones are counted, audited at the 1st, 2nd, 4th, …
    const audit = await sqlRows<{ action: string; details: Body }>(api, `select action, details from audit_log where target_id = '${victim}' order by id`);
    expect(audit.filter((a) => a.action === "auth.login_failed")).toHaveLength(free + 2);
    expect(audit.filter((a) => a.action === "auth.login_locked").map((a) => a.details.refused)).toEqual([1, 2]);
    // After the delay the right password works, and the count starts over.
    await sqlRows(api, `update login_attempts set locked_until = now() - interval '1 second' where user_key = '${victim}'`);
    expect((await loginAttempt(api, victim, "member-password-123")).status).toBe(200);
    expect(await sqlRows(api, `select 1 from login_attempts where user_key = '${victim}'`)).toEqual([]);
  });

  it("refuses auth.login inside a tRPC batch, before any password is checked", async () => {
    await sqlRows(api, "delete from login_attempts");
    const before = await sqlRows<{ n: number }>(api, "select count(*)::int as n from audit_log where action = 'auth.login_failed'");
    const calls = Array.from({ length: 3 }, (_, i) => ({ username: "admin", password: `guess-${i}` }));
    const input = Object.fromEntries(calls.map((c, i) => [String(i), c]));
    const res = await fetch(`${api.baseUrl}/trpc/${calls.map(() => "auth.login").join(",")}?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify(input),
    });
    const answers = (await res.json()) as Body[];
    expect(answers).toHaveLength(3);
    for (const a of answers) expect(a.error.data).toMatchObject({ opsCode: "VALIDATION", params: { reason: "login_batched" } });
    const after = await sqlRows<{ n: number }>(api, "select count(*)::int as n from audit_log where action = 'auth.login_failed'");
    expect(after[0]!.n).toBe(before[0]!.n);
    // One sign-in sent through the batch link (the web app's) still works.
    const single = await fetch(`${api.baseUrl}/trpc/auth.login?batch=1`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ 0: { username: "admin", password: "admin-password-for-tests" } }),
    });
    expect(single.status).toBe(200);
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

  it("health reports stored credentials that are still the deploy example's placeholders (set by an older version)", async () => {
    const before = (await api.rest("GET", "/dispatch/health")).body;
    expect(before.problems.map((p: Body) => p.code)).not.toContain("PLACEHOLDER_CREDENTIALS");
    const [token] = await sqlRows<{ value: string }>(api, "select value from ops_settings where key = 'service_api_token'");
    const [admin] = await sqlRows<{ password_hash: string }>(api, "select password_hash from users where username = 'admin'");
    const { hashPassword, hashToken } = await import("../src/auth/crypto.ts");
    await sqlRows(api, `update ops_settings set value = '${hashToken("CHANGE_ME_TO_A_RANDOM_TOKEN_OF_AT_LEAST_24_CHARS")}' where key = 'service_api_token'`);
    const session = await api.login();
    await sqlRows(api, `update users set password_hash = '${await hashPassword("CHANGE_ME_TO_A_STRONG_PASSWORD")}' where username = 'admin'`);
    try {
      // Asked with a session: the service token's verifier may still hold the hash it read before.
      const health = (await api.restAs(session)("GET", "/dispatch/health")).body;
      expect(health.problems).toContainEqual(expect.objectContaining({ code: "PLACEHOLDER_CREDENTIALS", params: { credentials: ["service_token", "admin:admin"] } }));
      expect(health.ok).toBe(false);
      expect(JSON.stringify(health)).not.toContain("CHANGE_ME_TO_A");
    } finally {
      await sqlRows(api, `update ops_settings set value = '${token!.value}' where key = 'service_api_token'`);
      await sqlRows(api, `update users set password_hash = '${admin!.password_hash}' where username = 'admin'`);
    }
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

describe("security (TRUST_PROXY=true, every hop trusted)", () => {
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

  it("health warns that every hop is trusted, naming the safer setting, and stays ok", async () => {
    const health = (await api.rest("GET", "/dispatch/health")).body;
    expect(health.problems).toContainEqual(expect.objectContaining({ code: "TRUST_PROXY_ALL_HOPS", severity: "warning", params: { recommended: "127.0.0.1" } }));
    expect(health.ok).toBe(true);
  });
});

describe("sign-in limits under parallel requests (PostgreSQL, TRUST_PROXY=127.0.0.1)", () => {
  // The test client connects from 127.0.0.1, the trusted proxy: X-Forwarded-For's last hop is the client.
  let api: TestApi;
  const as = (client: string) => ({ "x-forwarded-for": client });
  const failedChecks = async (target: string) =>
    (await sqlRows<{ n: number }>(api, `select count(*)::int as n from audit_log where action = 'auth.login_failed' and target_id = '${target}'`))[0]!.n;
  beforeAll(async () => {
    api = await startTestApi("postgres", { TRUST_PROXY: "127.0.0.1" });
  });
  afterAll(async () => api?.close());

  it("10 tRPC batches of 18 sign-ins in parallel from one address check no password at all", async () => {
    const input = JSON.stringify(Object.fromEntries(Array.from({ length: 18 }, (_, i) => [String(i), { username: "admin", password: `guess-${i}` }])));
    const url = `${api.baseUrl}/trpc/${Array(18).fill("auth.login").join(",")}?batch=1`;
    const answers = await Promise.all(
      Array.from({ length: 10 }, () =>
        fetch(url, { method: "POST", headers: { "content-type": "application/json", ...as("198.51.100.10") }, body: input }).then((r) => r.json() as Promise<Body[]>),
      ),
    );
    expect(answers.flat()).toHaveLength(180);
    for (const a of answers.flat()) expect(a.error.data.params.reason).toBe("login_batched");
    expect(await failedChecks("admin")).toBe(0);
  });

  it("40 parallel guesses from one address check at most free+1 passwords; the rest are refused before scrypt", async () => {
    const victim = "parallel-victim";
    await createUser(api, victim, "member");
    const statuses = await Promise.all(
      Array.from({ length: 40 }, (_, i) => loginAttempt(api, victim, `guess-${i}`, as("198.51.100.20")).then((r) => r.status)),
    );
    const checked = await failedChecks(victim);
    expect(checked).toBeGreaterThan(0);
    expect(checked).toBeLessThanOrEqual(LOGIN_LIMITS.perUserClient.free + 1);
    expect(statuses.filter((s) => s === 401)).toHaveLength(checked);
    expect(statuses.filter((s) => s !== 401).every((s) => s === 429)).toBe(true);
    // Never more scrypt checks at once than the semaphore allows in this instance.
    expect(passwordChecks().peak).toBeLessThanOrEqual(LOGIN_LIMITS.concurrentChecks);
  });

  it("a locked-out client cannot lock the admin out from elsewhere; its refused attempts are counted, not each audited", async () => {
    const attacker = as("203.0.113.66");
    for (let i = 0; i <= LOGIN_LIMITS.perUserClient.free; i++) expect((await loginAttempt(api, "admin", `guess-${i}`, attacker)).status).toBe(401);
    for (let i = 0; i < 20; i++) expect((await loginAttempt(api, "admin", "admin-password-for-tests", attacker)).status).toBe(429);
    // The instance admin from a fresh client signs in.
    expect((await loginAttempt(api, "admin", "admin-password-for-tests", as("192.0.2.5"))).status).toBe(200);
    const [row] = await sqlRows<{ refused: number }>(api, "select refused from login_attempts where user_key = 'admin' and client = '203.0.113.66'");
    expect(row!.refused).toBe(20);
    // Audited at the 1st, 2nd, 4th, 8th and 16th refusal: bounded growth.
    const locked = await sqlRows<{ details: Body }>(api, "select details from audit_log where action = 'auth.login_locked' and ip = '203.0.113.66' order by id");
    expect(locked.map((l) => l.details.refused)).toEqual([1, 2, 4, 8, 16]);
    // The attacker's address is what was recorded, and changing the header is a new client only through the trusted proxy.
    const ips = await sqlRows<{ ip: string }>(api, "select distinct ip from audit_log where action = 'auth.login_failed' and target_id = 'admin'");
    expect(ips).toEqual([{ ip: "203.0.113.66" }]);
  });

  it("a client that does not come through the trusted proxy cannot choose its address with X-Forwarded-For", async () => {
    // proxy-addr semantics checked without a second network interface: the socket address decides.
    const { default: Fastify } = await import("fastify");
    const probe = Fastify({ trustProxy: trustProxyOption(loadEnv({ OPS_DATA_DIR: "memory://", TRUST_PROXY: "10.0.0.1" }).TRUST_PROXY) });
    probe.get("/ip", async (req) => ({ ip: req.ip }));
    const res = await probe.inject({ url: "/ip", remoteAddress: "192.0.2.77", headers: { "x-forwarded-for": "203.0.113.66" } });
    expect(res.json()).toEqual({ ip: "192.0.2.77" });
    const viaProxy = await probe.inject({ url: "/ip", remoteAddress: "10.0.0.1", headers: { "x-forwarded-for": "203.0.113.66, 192.0.2.78" } });
    expect(viaProxy.json()).toEqual({ ip: "192.0.2.78" });
    const hops = Fastify({ trustProxy: trustProxyOption(loadEnv({ OPS_DATA_DIR: "memory://", TRUST_PROXY: "1" }).TRUST_PROXY) });
    hops.get("/ip", async (req) => ({ ip: req.ip }));
    const oneHop = await hops.inject({ url: "/ip", remoteAddress: "127.0.0.1", headers: { "x-forwarded-for": "203.0.113.66, 192.0.2.79" } });
    expect(oneHop.json()).toEqual({ ip: "192.0.2.79" });
    await probe.close();
    await hops.close();
  });
});

describe("configuration refused at start", () => {
  const base = { OPS_DATA_DIR: "memory://" };
  const refusal = (env: Record<string, string>) => {
    try {
      loadEnv({ ...base, ...env });
    } catch (error) {
      return (error as Error).message;
    }
    return "accepted";
  };

  it("refuses the examples' placeholders, common passwords and low-variety values, naming the variable and the fix", () => {
    const token = refusal({ OPS_SERVICE_TOKEN: "CHANGE_ME_TO_A_RANDOM_TOKEN_OF_AT_LEAST_24_CHARS" });
    expect(token).toContain("OPS_SERVICE_TOKEN: is still a CHANGE_ME placeholder");
    expect(token).toContain("openssl rand -hex 32");
    expect(token).not.toContain("CHANGE_ME_TO_A_RANDOM");
    expect(refusal({ OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "CHANGE_ME_TO_A_STRONG_PASSWORD" })).toContain("OPS_ADMIN_PASSWORD: is still a CHANGE_ME placeholder");
    expect(refusal({ OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "Password123456!" })).toContain("OPS_ADMIN_PASSWORD: is a common password");
    expect(refusal({ OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "admin-admin-admin" })).toContain("is a common password");
    expect(refusal({ OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "123412341234" })).toContain("is a common password");
    expect(refusal({ OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: "<strong-pass>" })).toContain("placeholder");
    expect(refusal({ OPS_SERVICE_TOKEN: "abababababababababababab" })).toContain("OPS_SERVICE_TOKEN: uses only 2 distinct characters");
    expect(refusal({ OPS_SERVICE_TOKEN: "tiny" })).toContain("OPS_SERVICE_TOKEN: must be at least 24 characters");
    // What the suites, the bench and `openssl rand -hex 32` use stays valid.
    for (const ok of [SERVICE_TOKEN, "test-service-token-40123-0123456789abcdef", "bench-service-token-40123-0123456789abcdef", "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"]) {
      expect(refusal({ OPS_SERVICE_TOKEN: ok })).toBe("accepted");
    }
    for (const ok of ["admin-password-for-tests", "a-strong-password-123", "a-brand-new-password", "admin-password-for-bench", "contraseña-larga-de-prueba"]) {
      expect(refusal({ OPS_ADMIN_USER: "admin", OPS_ADMIN_PASSWORD: ok })).toBe("accepted");
    }
  });

  it("TRUST_PROXY takes false, a hop count, addresses/CIDRs or true; anything else is refused with what to write", () => {
    const trust = (v: string) => loadEnv({ ...base, TRUST_PROXY: v }).TRUST_PROXY;
    expect(trust("false")).toBe(false);
    expect(trust("0")).toBe(false);
    expect(trust("true")).toBe(true);
    expect(trust("1")).toBe(1);
    expect(trust("127.0.0.1")).toEqual(["127.0.0.1"]);
    expect(trust("10.0.0.0/8, ::1, loopback")).toEqual(["10.0.0.0/8", "::1", "loopback"]);
    expect(refusal({ TRUST_PROXY: "yes" })).toContain('TRUST_PROXY: "yes" is not an IP address or CIDR range');
    // true is accepted and warned about at start (and by health); the safer forms are not.
    expect(startupWarnings(loadEnv({ ...base, TRUST_PROXY: "true" }))).toEqual([expect.stringContaining("TRUST_PROXY=127.0.0.1")]);
    for (const safe of ["false", "1", "127.0.0.1"]) expect(startupWarnings(loadEnv({ ...base, TRUST_PROXY: safe }))).toEqual([]);
    expect(refusal({ TRUST_PROXY: "10.0.0.0/33" })).toContain("invalid prefix length");
  });
});

describe("oversized request bodies", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi("pglite");
  });
  afterAll(async () => api?.close());

  /** A real upload with node:http: every error the client sees is kept, until its socket closes. */
  const upload = (path: string, body: Buffer, chunked: boolean) =>
    new Promise<{ status?: number; text: string; errors: string[] }>((resolve) => {
      const url = new URL(`${api.baseUrl}${path}`);
      const out: { status?: number; text: string; errors: string[] } = { text: "", errors: [] };
      const req = httpRequest(
        {
          agent: false,
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: url.pathname + url.search,
          headers: { "content-type": "application/json", [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN, ...(chunked ? {} : { "content-length": body.length }) },
        },
        (res) => {
          out.status = res.statusCode;
          res.setEncoding("utf8");
          res.on("data", (d: string) => {
            out.text += d;
          });
        },
      );
      req.on("error", (e: NodeJS.ErrnoException) => out.errors.push(e.code ?? e.message));
      req.on("close", () => setImmediate(() => resolve(out)));
      if (chunked) {
        for (let i = 0; i < body.length; i += 1024 * 1024) req.write(body.subarray(i, i + 1024 * 1024));
        req.end();
      } else req.end(body);
    });

  it("a 20 MB upload gets a readable 413 naming the limit, every time (no EPIPE, no reset)", async () => {
    const body = Buffer.alloc(20 * 1024 * 1024, 0x61);
    for (let i = 0; i < 20; i++) {
      const res = await upload(i % 2 ? "/api/tasks" : "/trpc/tasks.create", body, i % 4 === 3);
      expect(res.errors).toEqual([]);
      expect(res.status).toBe(413);
      expect(JSON.parse(res.text)).toEqual({
        error: { code: "VALIDATION", message: `the request body is larger than ${BODY_LIMIT} bytes`, params: { limit_bytes: BODY_LIMIT } },
      });
    }
    // The API still answers afterwards.
    expect((await api.rest("GET", "/auth/me")).status).toBe(200);
  });
});

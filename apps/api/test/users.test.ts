import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are read field by field
type Body = any;

// People managed in the app, over the real transport with real sessions:
// users (instance admins), workspaces, memberships (a workspace admin for its
// own workspace), and everyone's own password.

describe("users, workspaces and memberships", () => {
  let api: TestApi;
  let admin: ReturnType<TestApi["restAs"]>;
  beforeAll(async () => {
    api = await startTestApi("pglite");
    admin = api.restAs(await api.login());
  });
  afterAll(async () => api?.close());

  const signIn = async (username: string, password: string) => api.restAs(await api.login(username, password));
  async function user(username: string, fields: Record<string, unknown> = {}): Promise<Body> {
    const res = await admin("POST", "/users", { username, password: "a-long-password-1", ...fields });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    return res.body;
  }

  it("an instance admin creates a user with a role; the user signs in and sees its role", async () => {
    const created = await user("ana", { workspace_id: 1, role: "member" });
    expect(created).toMatchObject({ username: "ana", is_instance_admin: false, disabled: false, memberships: [{ workspace_id: 1, workspace_name: "Default", role: "member" }] });
    const ana = await signIn("ana", "a-long-password-1");
    expect((await ana("GET", "/auth/me")).body).toMatchObject({ username: "ana", memberships: [{ workspace_id: 1, role: "member" }] });
    expect((await admin("GET", "/users")).body.map((u: Body) => u.username)).toEqual(["admin", "ana"]);
    const again = await admin("POST", "/users", { username: "ana", password: "a-long-password-1" });
    expect(again.status).toBe(409);
    expect(again.body.error).toMatchObject({ code: "CONFLICT", field: "username" });
  });

  it("refuses a short password naming the field and the minimum", async () => {
    const res = await admin("POST", "/users", { username: "shorty", password: "short" });
    expect(res.status).toBe(400);
    expect(res.body.error).toMatchObject({ code: "VALIDATION", field: "password", params: { reason: "too_short", field: "password", minimum: 12 } });
    expect((await admin("GET", "/users")).body.map((u: Body) => u.username)).not.toContain("shorty");
  });

  it("refuses a common, placeholder or low-variety password as the start refuses OPS_ADMIN_PASSWORD, never echoing it", async () => {
    for (const password of ["Password123456!", "CHANGE_ME_TO_A_STRONG_PASSWORD", "abababababab"]) {
      const res = await admin("POST", "/users", { username: "weakling", password });
      expect(res.status).toBe(400);
      expect(res.body.error).toMatchObject({ code: "VALIDATION", field: "password", params: { reason: "password_weak", field: "password" } });
      expect(JSON.stringify(res.body)).not.toContain(password);
    }
    expect((await admin("GET", "/users")).body.map((u: Body) => u.username)).not.toContain("weakling");
    const own = await admin("POST", "/auth/password", { current_password: ADMIN.password, new_password: "admin-admin-admin" });
    expect(own.body.error).toMatchObject({ code: "VALIDATION", field: "new_password", params: { reason: "password_weak" } });
  });

  it("a disabled user cannot sign in and its open session stops at once; enabled, it can again", async () => {
    const created = await user("bruno", { workspace_id: 1, role: "member" });
    const bruno = await signIn("bruno", "a-long-password-1");
    expect((await bruno("GET", "/tasks")).status).toBe(200);
    expect((await admin("POST", `/users/${created.id}/disable`)).body.disabled).toBe(true);
    expect((await bruno("GET", "/tasks")).status).toBe(401);
    const refused = await api.restAs({})("POST", "/auth/login", { username: "bruno", password: "a-long-password-1" });
    expect(refused.status).toBe(401);
    expect(refused.body.error).toMatchObject({ code: "UNAUTHORIZED", params: { reason: "account_disabled" } });
    // A wrong password is answered as for anyone: being disabled is said only to someone who knows the password.
    const guess = await api.restAs({})("POST", "/auth/login", { username: "bruno", password: "not-his-password" });
    expect(guess.body.error.params).toBeUndefined();
    await admin("POST", `/users/${created.id}/enable`);
    expect((await (await signIn("bruno", "a-long-password-1"))("GET", "/tasks")).status).toBe(200);
  });

  it("nobody disables themselves, and the last instance admin stays", async () => {
    const me = (await admin("GET", "/auth/me")).body;
    const self = await admin("POST", `/users/${me.id}/disable`);
    expect(self.status).toBe(403);
    expect(self.body.error.params).toMatchObject({ reason: "own_account" });
    const last = await api.rest("POST", `/users/${me.id}/disable`);
    expect(last.status).toBe(409);
    expect(last.body.error.params).toMatchObject({ reason: "last_instance_admin" });
  });

  it("a password reset ends the user's sessions; the new password works", async () => {
    const created = await user("carla", { workspace_id: 1, role: "member" });
    const carla = await signIn("carla", "a-long-password-1");
    expect((await admin("POST", `/users/${created.id}/password`, { password: "a-brand-new-password" })).status).toBe(200);
    expect((await carla("GET", "/tasks")).status).toBe(401);
    await signIn("carla", "a-brand-new-password");
  });

  it("changing my password ends my other sessions and keeps this one", async () => {
    await user("dario", { workspace_id: 1, role: "member" });
    const here = await signIn("dario", "a-long-password-1");
    const elsewhere = await signIn("dario", "a-long-password-1");
    const wrong = await here("POST", "/auth/password", { current_password: "not-it", new_password: "dario-new-password" });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error).toMatchObject({ field: "current_password", params: { reason: "password_wrong" } });
    expect((await elsewhere("GET", "/tasks")).status).toBe(200);

    expect((await here("POST", "/auth/password", { current_password: "a-long-password-1", new_password: "dario-new-password" })).status).toBe(200);
    expect((await here("GET", "/tasks")).status).toBe(200);
    expect((await elsewhere("GET", "/tasks")).status).toBe(401);
    await signIn("dario", "dario-new-password");
    const service = await api.rest("POST", "/auth/password", { current_password: "x", new_password: "whatever-long-enough" });
    expect(service.status).toBe(403);
  });

  it("an instance admin creates and renames workspaces", async () => {
    const created = (await admin("POST", "/workspaces", { name: "Equipo B" })).body;
    expect(created).toMatchObject({ name: "Equipo B" });
    expect((await admin("PATCH", `/workspaces/${created.id}`, { name: "Equipo Beta" })).body.name).toBe("Equipo Beta");
    expect((await admin("GET", "/workspaces")).body.map((w: Body) => w.name)).toContain("Equipo Beta");
  });

  it("a workspace admin manages its own workspace's members, not another's nor its own role", async () => {
    const second = (await admin("POST", "/workspaces", { name: "Segundo" })).body;
    await user("elena", { workspace_id: 1, role: "admin" });
    const felix = await user("felix");
    const elena = await signIn("elena", "a-long-password-1");

    const added = await elena("POST", "/workspaces/1/members", { username: "felix", role: "member" });
    expect(added.body).toMatchObject({ user_id: felix.id, username: "felix", role: "member" });
    expect((await elena("PATCH", `/workspaces/1/members/${felix.id}`, { role: "admin" })).body.role).toBe("admin");
    expect((await elena("GET", "/workspaces/1/members")).body.map((m: Body) => `${m.username}:${m.role}`)).toContain("felix:admin");
    expect((await elena("DELETE", `/workspaces/1/members/${felix.id}`)).status).toBe(200);
    expect((await elena("GET", "/workspaces/1/members")).body.map((m: Body) => m.username)).not.toContain("felix");

    const unknown = await elena("POST", "/workspaces/1/members", { username: "nobody-here", role: "member" });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.params).toMatchObject({ reason: "no_such_user", username: "nobody-here" });
    expect((await elena("GET", `/workspaces/${second.id}/members`)).status).toBe(404);
    expect((await elena("POST", `/workspaces/${second.id}/members`, { username: "felix", role: "member" })).status).toBe(404);
    const me = (await elena("GET", "/auth/me")).body;
    const own = await elena("PATCH", `/workspaces/1/members/${me.id}`, { role: "member" });
    expect(own.status).toBe(403);
    expect(own.body.error.params).toMatchObject({ reason: "own_membership" });
    expect((await elena("GET", "/users")).status).toBe(403);
  });

  it("every change to people is audited", async () => {
    const actions = new Set((await api.rest("GET", "/audit?limit=500")).body.map((e: Body) => e.action));
    for (const action of ["user.created", "user.disabled", "user.enabled", "user.password_reset", "auth.password_changed", "workspace.created", "workspace.renamed", "membership.added", "membership.role_changed", "membership.removed"]) {
      expect(actions, action).toContain(action);
    }
  });
});

describe("the first-start admin password", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi("pglite", { OPS_ADMIN_USER: "", OPS_ADMIN_PASSWORD: "" });
  });
  afterAll(async () => api?.close());

  it("changed in the app clears the generated-credentials problem for the password", async () => {
    expect(api.generated.adminPassword).toBeDefined();
    const health = async () => (await api.rest("GET", "/dispatch/health")).body.problems.find((p: Body) => p.code === "DEFAULT_CREDENTIALS");
    expect((await health()).params).toEqual({ credentials: ["admin"] });
    const admin = api.restAs(await api.login("admin", api.generated.adminPassword!));
    expect((await admin("POST", "/auth/password", { current_password: api.generated.adminPassword, new_password: "chosen-by-a-person" })).status).toBe(200);
    expect(await health()).toBeUndefined();
  });
});

describe("OPS_ADMIN_PASSWORD applied at start", () => {
  it("a restart with the same values keeps a password changed in the app; new values rotate it", async () => {
    const { bootstrapCredentials } = await import("../src/auth/bootstrap.ts");
    const { loadEnv } = await import("../src/env.ts");
    const api = await startTestApi("pglite");
    try {
      const admin = api.restAs(await api.login());
      expect((await admin("POST", "/auth/password", { current_password: ADMIN.password, new_password: "changed-in-the-app" })).status).toBe(200);
      const env = (password: string) => loadEnv({ OPS_ADMIN_USER: ADMIN.username, OPS_ADMIN_PASSWORD: password, OPS_DATA_DIR: "memory://" });
      await bootstrapCredentials(api.database.db, env(ADMIN.password));
      await api.login(ADMIN.username, "changed-in-the-app");
      await bootstrapCredentials(api.database.db, env("a-newer-env-password"));
      await api.login(ADMIN.username, "a-newer-env-password");
    } finally {
      await api.close();
    }
  });
});

import { SERVICE_TOKEN_HEADER } from "@ops/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ADMIN, DB_KINDS, SERVICE_TOKEN, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked field by field
const json = async (res: Response): Promise<any> => res.json();

describe.each(DB_KINDS)("foundation on %s", (kind) => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(async () => api?.close());

  describe("the runbook's settings curl lines", () => {
    const put = (value: unknown, token = SERVICE_TOKEN) =>
      fetch(`${api.apiBase}/settings/dispatch_enabled`, {
        method: "PUT",
        headers: { "X-OPS-Service-Token": token, "Content-Type": "application/json" },
        body: JSON.stringify({ value }),
      });

    it("enables and disables dispatch with the service token", async () => {
      const on = await put("true");
      expect(on.status).toBe(200);
      expect((await json(on)).value).toBe("true");
      const off = await put("false");
      expect((await json(off)).value).toBe("false");
      const list = await api.rest("GET", "/settings");
      expect(list.body.find((s: { key: string }) => s.key === "dispatch_enabled").value).toBe("false");
    });

    it("refuses a wrong token with 401 and changes nothing", async () => {
      await put("false");
      const res = await put("true", "not-the-token");
      expect(res.status).toBe(401);
      expect((await json(res)).error.code).toBe("UNAUTHORIZED");
      expect((await api.rest("GET", "/settings/dispatch_enabled")).body.value).toBe("false");
    });

    it('refuses {"value":"maybe"} with 400 naming the key', async () => {
      const res = await put("maybe");
      expect(res.status).toBe(400);
      const body = (await json(res)) as { error: { code: string; message: string } };
      expect(body.error.code).toBe("VALIDATION");
      expect(body.error.message).toContain("dispatch_enabled");
      expect(body.error.message).toContain('"true" or "false"');
    });

    it("validates numeric settings and refuses unknown keys", async () => {
      const ok = await api.rest("PUT", "/settings/dispatch_stale_minutes", { value: "20" });
      expect(ok.status).toBe(200);
      const bad = await api.rest("PUT", "/settings/dispatch_stale_minutes", { value: "-3" });
      expect(bad.status).toBe(400);
      expect(bad.body.error.message).toMatch(/dispatch_stale_minutes must be a whole number/);
      const unknown = await api.rest("PUT", "/settings/no_such_key", { value: "1" });
      expect(unknown.status).toBe(400);
      expect(unknown.body.error.field).toBe("key");
    });

    it("never returns the service token, only whether it is set", async () => {
      const list = await api.rest("GET", "/settings");
      const token = list.body.find((s: { key: string }) => s.key === "service_api_token");
      expect(token).toMatchObject({ secret: true, is_set: true, value: null });
      expect(JSON.stringify(list.body)).not.toContain(SERVICE_TOKEN);
    });
  });

  describe("tasks over REST", () => {
    it("creates an interactive task by agent slug and reads it back", async () => {
      const created = await api.rest("POST", "/tasks", {
        title: "Pilot",
        description: "do it",
        execution: "interactive",
        agent_slug: "codex",
        model: "gpt-5",
      });
      expect(created.status).toBe(200);
      expect(created.body).toMatchObject({ status: "backlog", agent_slug: "codex", execution: "interactive", workspace_id: 1 });
      const got = await api.rest("GET", `/tasks/${created.body.id}`);
      expect(got.body.title).toBe("Pilot");
    });

    it("names the bad field on a bad task", async () => {
      const res = await api.rest("POST", "/tasks", { title: "", execution: "sometimes" });
      expect(res.status).toBe(400);
      expect(["title", "execution"]).toContain(res.body.error.field);
      const badAgent = await api.rest("POST", "/tasks", { title: "x", agent_slug: "nobody" });
      expect(badAgent.status).toBe(400);
      expect(badAgent.body.error.field).toBe("agent_slug");
    });

    it("lists with filters, archives and deletes", async () => {
      const a = (await api.rest("POST", "/tasks", { title: "filter-me", agent_slug: "hermes" })).body;
      const list = await api.rest("GET", `/tasks?agent_id=${a.agent_id}&status=backlog`);
      expect(list.body.tasks.map((t: { id: number }) => t.id)).toContain(a.id);
      await api.rest("POST", `/tasks/${a.id}/archive`);
      const after = await api.rest("GET", `/tasks?agent_id=${a.agent_id}`);
      expect(after.body.tasks.map((t: { id: number }) => t.id)).not.toContain(a.id);
      const del = await api.rest("DELETE", `/tasks/${a.id}`);
      expect(del.body).toEqual({ ok: true });
      expect((await api.rest("GET", `/tasks/${a.id}`)).status).toBe(404);
    });

    it("keeps context entries, comments and time logs on a task", async () => {
      const t = (await api.rest("POST", "/tasks", { title: "with entries" })).body;
      expect((await api.rest("POST", `/tasks/${t.id}/context`, { kind: "deliverable", body: "report at /tmp/x" })).status).toBe(200);
      expect((await api.rest("POST", `/tasks/${t.id}/comments`, { body: "see deliverable" })).status).toBe(200);
      expect((await api.rest("POST", `/tasks/${t.id}/time-logs`, { minutes: 5, source: "human" })).status).toBe(200);
      expect((await api.rest("GET", `/tasks/${t.id}/context`)).body[0]).toMatchObject({ kind: "deliverable", source: "ai" });
      expect((await api.rest("GET", `/tasks/${t.id}/comments`)).body[0]).toMatchObject({ kind: "user" });
      expect((await api.rest("GET", `/tasks/${t.id}/time-logs`)).body[0]).toMatchObject({ minutes: 5, source: "human" });
      const bad = await api.rest("POST", `/tasks/${t.id}/time-logs`, { minutes: -1 });
      expect(bad.status).toBe(400);
      expect(bad.body.error.field).toBe("minutes");
    });

    it("passes query parameters to body methods (?force=true)", async () => {
      const t = (await api.rest("POST", "/tasks", { title: "forced", agent_slug: "codex" })).body;
      const refused = await api.rest("PATCH", `/tasks/${t.id}/status`, { status: "done" });
      expect(refused.status).toBe(409);
      expect(refused.body.error.code).toBe("DONE_GUARD");
      const forced = await api.rest("PATCH", `/tasks/${t.id}/status?force=true`, { status: "done" });
      expect(forced.status).toBe(200);
      expect(forced.body.status).toBe("done");
    });
  });

  describe("agents", () => {
    it("seeds the runbook's four runtimes", async () => {
      const agents = (await api.rest("GET", "/agents")).body.map((a: { slug: string }) => a.slug);
      expect(agents).toEqual(["claudecode", "codex", "hermes", "opencode"]);
    });

    it("creates and updates an agent, including active and launch_command", async () => {
      const created = await api.rest("POST", "/agents", { slug: `aider-${kind}`, name: "Aider" });
      expect(created.status).toBe(200);
      const updated = await api.rest("PATCH", `/agents/${created.body.id}`, {
        active: false,
        launch_command: "aider --message {prompt}",
      });
      expect(updated.body).toMatchObject({ active: false, launch_command: "aider --message {prompt}" });
      const dup = await api.rest("POST", "/agents", { slug: `aider-${kind}`, name: "again" });
      expect(dup.status).toBe(409);
      const badSlug = await api.rest("POST", "/agents", { slug: "Bad Slug!", name: "x" });
      expect(badSlug.status).toBe(400);
      expect(badSlug.body.error.field).toBe("slug");
    });
  });

  describe("auth", () => {
    it("signs in with a session cookie that is HttpOnly and SameSite", async () => {
      const res = await fetch(`${api.apiBase}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify(ADMIN),
      });
      expect(res.status).toBe(200);
      const cookie = res.headers.get("set-cookie")!;
      expect(cookie).toMatch(/HttpOnly/);
      expect(cookie).toMatch(/SameSite=Strict/);
      const me = await api.restAs({ cookie: cookie.split(";")[0]! })("GET", "/auth/me");
      expect(me.body).toMatchObject({ kind: "user", username: "admin", is_instance_admin: true });
    });

    it("says a wrong password is wrong without saying which part", async () => {
      const wrongPw = await api.restAs({})("POST", "/auth/login", { username: "admin", password: "nope-nope" });
      const wrongUser = await api.restAs({})("POST", "/auth/login", { username: "ghost", password: "nope-nope" });
      expect(wrongPw.status).toBe(401);
      expect(wrongUser.status).toBe(401);
      expect(wrongPw.body.error.message).toBe(wrongUser.body.error.message);
    });

    it("requires credentials (401) and the right role (403)", async () => {
      const anon = api.restAs({});
      expect((await anon("GET", "/tasks")).status).toBe(401);
      expect((await anon("GET", "/dispatch/health")).status).toBe(401);
      const cookie = await api.login();
      const asAdmin = api.restAs(cookie);
      expect((await asAdmin("GET", "/dispatch/health")).status).toBe(200);
      // Worker procedures are for the service token only.
      const next = await asAdmin("POST", "/dispatch/next", { worker_id: "w", agent_slugs: ["codex"] });
      expect(next.status).toBe(403);
    });

    it("logs out", async () => {
      const cookie = await api.login();
      await api.restAs(cookie)("POST", "/auth/logout", {});
      expect((await api.restAs(cookie)("GET", "/auth/me")).status).toBe(401);
    });
  });

  describe("typed tRPC client from the contract", () => {
    it("answers the same shapes as REST", async () => {
      const created = await api.trpc.tasks.create.mutate({ title: "via trpc", agent_slug: "opencode" });
      const viaRest = await api.rest("GET", `/tasks/${created.id}`);
      expect(viaRest.body).toEqual(await api.trpc.tasks.get.query({ id: created.id }));
      const workspaces = await api.trpc.workspaces.list.query({});
      expect(workspaces[0]).toMatchObject({ id: 1 });
    });

    it("carries the ops error code", async () => {
      const err = await api.trpc.tasks.get.query({ id: 999999 }).catch((e) => e);
      expect(err.data.opsCode).toBe("NOT_FOUND");
      expect(err.data.httpStatus).toBe(404);
    });
  });

  describe("OpenAPI", () => {
    it("documents every REST path from the contract", async () => {
      const doc = (await api.restAs({})("GET", "/openapi.json")).body;
      expect(doc.openapi).toBe("3.1.0");
      expect(doc.paths["/settings/{key}"].put).toBeDefined();
      expect(doc.paths["/dispatch/reconcile-stale"].post).toBeDefined();
      expect(doc.paths["/tasks/{id}/status"].patch.requestBody).toBeDefined();
    });
  });

  it("answers unknown API paths and malformed JSON with clear 4xx errors", async () => {
    expect((await api.rest("GET", "/nope")).status).toBe(404);
    const res = await fetch(`${api.apiBase}/tasks`, {
      method: "POST",
      headers: { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN, "content-type": "application/json" },
      body: "{not json",
    });
    expect(res.status).toBe(400);
    expect(((await json(res)) as { error: { code: string } }).error.code).toBe("VALIDATION");
  });
});

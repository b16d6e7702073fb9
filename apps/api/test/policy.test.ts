import { readFileSync } from "node:fs";
import { contract, listProcedures } from "@ops/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../../../tests/support/spawn-api.ts";
import { createUser, SERVICE_TOKEN, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are read field by field
type Body = any;

const CALLERS = [
  "anonymous",
  "member",
  "workspace admin",
  "instance admin",
  "service token",
  "wrong token",
  "other workspace",
  "task agent",
  "worker token",
] as const;
/** The worker id and pool the policy's worker token is issued for. */
const POLICY_WORKER = "policy-worker";
type Caller = (typeof CALLERS)[number];

/** The policy table of docs/security-policy.md: procedure → caller → allowed. */
function readPolicy(): Map<string, Record<Caller, boolean>> {
  const text = readFileSync(`${REPO_ROOT}/docs/security-policy.md`, "utf8");
  const policy = new Map<string, Record<Caller, boolean>>();
  for (const line of text.split("\n")) {
    const match = /^\| `([\w.]+)` \| `[^`]+` \|(.*)\|$/.exec(line);
    if (!match) continue;
    const cells = match[2]!.split("|").map((c) => c.trim());
    expect(cells, `row ${match[1]} needs ${CALLERS.length} cells`).toHaveLength(CALLERS.length);
    policy.set(match[1]!, Object.fromEntries(CALLERS.map((c, i) => [c, cells[i] === "allow"])) as Record<Caller, boolean>);
  }
  return policy;
}

describe("access policy against the live API", () => {
  let api: TestApi;
  let headers: Record<Exclude<Caller, "task agent">, Record<string, string>>;
  const USERS: Partial<Record<Caller, [string, string]>> = {
    member: ["policy-member", "member-password-123"],
    "workspace admin": ["policy-wsadmin", "member-password-123"],
    "instance admin": ["admin", "admin-password-for-tests"],
    "other workspace": ["policy-other", "member-password-123"],
  };
  const policy = readPolicy();
  let n = 0;

  beforeAll(async () => {
    api = await startTestApi("pglite");
    await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    headers = {
      anonymous: {},
      member: await createUser(api, "policy-member", "member", 1),
      "workspace admin": await createUser(api, "policy-wsadmin", "admin", 1),
      "instance admin": await api.login(),
      "service token": { "x-ops-service-token": SERVICE_TOKEN },
      "wrong token": { "x-ops-service-token": "definitely-not-the-service-token" },
      "other workspace": await createUser(api, "policy-other", "admin", 2),
      "worker token": { "x-ops-worker-token": (await svc("POST", "/workers/tokens", { worker_id: POLICY_WORKER, workspace_ids: [1] })).body.token },
    };
  });
  afterAll(async () => api?.close());

  const svc = (method: string, path: string, body?: unknown) => api.rest(method, path, body);
  async function task(fields: Record<string, unknown> = {}): Promise<Body> {
    return (await svc("POST", "/tasks", { title: `policy ${++n}`, execution: "interactive", agent_slug: "codex", ...fields })).body;
  }
  /** A task claimed by a worker (by default one of its own), with the agent token of that claim. */
  async function claimedTask(worker = `policy-w-${n + 1}`): Promise<{ id: number; token: string; attempt: number; worker: string }> {
    const t = await task({ priority: 1000 });
    await svc("POST", `/tasks/${t.id}/dispatch`);
    const claim = (await svc("POST", "/dispatch/next", { worker_id: worker, agent_slugs: ["codex"] })).body;
    expect(claim.task?.id, JSON.stringify(claim)).toBe(t.id);
    return { id: t.id, token: claim.task_token, attempt: claim.attempt, worker };
  }

  /**
   * Fresh, valid input for each procedure, so an allowed call succeeds on its
   * merits. A worker token acts as its own worker id, so its claims are made
   * under that id.
   */
  async function fixture(name: string, caller: Caller): Promise<{ input: Record<string, unknown>; agentToken?: string }> {
    const workerId = caller === "worker token" ? POLICY_WORKER : undefined;
    const claimed = async (extra: (c: Awaited<ReturnType<typeof claimedTask>>) => Record<string, unknown>) => {
      const c = await claimedTask(workerId);
      return { input: extra(c), agentToken: c.token };
    };
    switch (name) {
      case "auth.login":
        return { input: { username: "admin", password: "admin-password-for-tests" } };
      case "agents.list": case "tasks.list": case "alerts.list":
        return { input: { workspace_id: 1 } };
      case "agents.create":
        return { input: { workspace_id: 1, slug: `policy-agent-${++n}`, name: "Policy" } };
      case "agents.update": case "agents.delete": {
        const agent = (await svc("POST", "/agents", { workspace_id: 1, slug: `policy-agent-${++n}`, name: "P" })).body;
        return { input: name === "agents.update" ? { id: agent.id, active: true } : { id: agent.id } };
      }
      case "tasks.create":
        return { input: { workspace_id: 1, title: "policy create" } };
      case "tasks.get": case "tasks.explain": case "context.list": case "comments.list": case "timeLogs.list":
        return claimed((c) => (name.startsWith("tasks") ? { id: c.id } : { task_id: c.id }));
      case "tasks.update": case "tasks.setStatus":
        return claimed((c) => ({ id: c.id, status: "review" }));
      case "tasks.archive": case "tasks.delete": case "tasks.dispatch":
        return { input: { id: (await task()).id } };
      case "tasks.approve":
        return { input: { id: (await task({ sensitive: true })).id } };
      case "tasks.cancel": {
        const t = await task();
        await svc("POST", `/tasks/${t.id}/dispatch`);
        return { input: { id: t.id } };
      }
      case "context.add":
        return claimed((c) => ({ task_id: c.id, kind: "note", body: "policy" }));
      case "comments.add":
        return claimed((c) => ({ task_id: c.id, body: "policy" }));
      case "timeLogs.add":
        return claimed((c) => ({ task_id: c.id, minutes: 1 }));
      case "settings.get":
        return { input: { key: "dispatch_stale_minutes" } };
      case "settings.put":
        return { input: { key: "dispatch_stale_minutes", value: "20" } };
      case "dispatch.next":
        return { input: { worker_id: workerId ?? "policy-next", agent_slugs: ["nobody-has-this"] } };
      case "dispatch.heartbeat":
        return { input: { worker_id: workerId ?? "policy-hb", hostname: "h", pid: 1, version: "v", agent_slugs: [], free_slots: 0 } };
      case "dispatch.setWorkspaceDispatch":
        return { input: { workspace_id: 1, enabled: true } };
      case "workers.listTokens":
        return { input: {} };
      case "workers.issueToken":
        return { input: { worker_id: `policy-issued-${++n}`, workspace_ids: [1] } };
      case "workers.revokeToken": {
        const issued = await svc("POST", "/workers/tokens", { worker_id: `policy-revoked-${++n}`, workspace_ids: [1] });
        return { input: { id: issued.body.credential.id } };
      }
      case "dispatch.reconcileStale":
        return { input: { minutes: 20 } };
      case "dispatch.reconcilePreview":
        return { input: { minutes: 20 } };
      case "auth.changePassword": {
        const password = USERS[caller]?.[1] ?? "any-current-password";
        return { input: { current_password: password, new_password: `${password}-changed` } };
      }
      case "workspaces.create":
        return { input: { name: `policy ${++n}` } };
      case "workspaces.rename":
        return { input: { id: 1, name: "Default" } };
      case "users.create":
        return { input: { username: `policy-user-${++n}`, password: "policy-password-123" } };
      case "users.disable": case "users.enable": case "users.resetPassword": {
        const user = (await svc("POST", "/users", { username: `policy-user-${++n}`, password: "policy-password-123" })).body;
        if (name === "users.enable") await svc("POST", `/users/${user.id}/disable`);
        return { input: name === "users.resetPassword" ? { id: user.id, password: "policy-password-456" } : { id: user.id } };
      }
      case "memberships.list":
        return { input: { workspace_id: 1 } };
      case "memberships.add": case "memberships.setRole": case "memberships.remove": {
        const username = `policy-member-${++n}`;
        const user = (await svc("POST", "/users", { username, password: "policy-password-123" })).body;
        if (name === "memberships.add") return { input: { workspace_id: 1, username, role: "member" } };
        await svc("POST", "/workspaces/1/members", { username, role: "member" });
        return { input: name === "memberships.setRole" ? { workspace_id: 1, user_id: user.id, role: "admin" } : { workspace_id: 1, user_id: user.id } };
      }
      case "dispatch.removeWorker": {
        const worker = `policy-rm-${++n}`;
        await svc("POST", "/dispatch/heartbeat", { worker_id: worker, hostname: "h", pid: 1, version: "v", agent_slugs: [], free_slots: 0 });
        return { input: { worker_id: worker } };
      }
      case "dispatch.started":
        return claimed((c) => ({ id: c.id, worker_id: c.worker, attempt: c.attempt, pid: 1, command: ["x"], log_path: "/tmp/l", err_log_path: "/tmp/e" }));
      case "dispatch.failed":
        return claimed((c) => ({ id: c.id, worker_id: c.worker, attempt: c.attempt, reason: "policy" }));
      case "dispatch.finished":
        return claimed((c) => ({ id: c.id, worker_id: c.worker, attempt: c.attempt, exit_code: 0, duration_ms: 1 }));
      case "alerts.resolve": {
        const c = await claimedTask();
        await svc("POST", `/dispatch/tasks/${c.id}/failed`, { worker_id: c.worker, attempt: c.attempt, reason: "policy" });
        const alert = (await svc("GET", "/alerts")).body.find((a: Body) => a.task_id === c.id);
        return { input: { id: alert.id } };
      }
      default:
        return { input: {} };
    }
  }

  async function callAs(name: string, caller: Caller): Promise<number> {
    const def = listProcedures(contract).find((p) => p.name === name)!.def;
    const { input, agentToken } = await fixture(name, caller);
    const params = new Set([...def.path.matchAll(/\{(\w+)\}/g)].map((m) => m[1]!));
    const path = def.path.replace(/\{(\w+)\}/g, (_m, key: string) => encodeURIComponent(String(input[key])));
    const rest = Object.fromEntries(Object.entries(input).filter(([k]) => !params.has(k)));
    let callerHeaders = caller === "task agent" ? (agentToken ? { "x-ops-task-token": agentToken } : await agentOfOtherTask()) : headers[caller];
    // Signing out ends the session: use a session of its own so the other checks keep theirs.
    const user = USERS[caller];
    if (name === "auth.logout" && user) callerHeaders = await api.login(...user);
    const query = def.method === "GET" && Object.keys(rest).length ? `?${new URLSearchParams(rest as Record<string, string>)}` : "";
    const res = await api.restAs(callerHeaders)(def.method, `${path}${query}`, def.method === "GET" ? undefined : rest);
    expect(res.status, `${name} as ${caller}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
    if (name === "auth.changePassword" && res.status === 200) {
      // Put the caller's password back, so later sign-ins still work.
      const back = await api.restAs(callerHeaders)("POST", "/auth/password", { current_password: input.new_password, new_password: input.current_password });
      expect(back.status).toBe(200);
    }
    if (name === "settings.rotateServiceToken" && res.status === 200) {
      // Put the suite's token back, so later checks can still act as the service.
      const restore = await api.restAs(headers["instance admin"])("PUT", "/settings/service_api_token", { value: SERVICE_TOKEN });
      expect(restore.status).toBe(200);
    }
    return res.status;
  }
  async function agentOfOtherTask() {
    return { "x-ops-task-token": (await claimedTask()).token };
  }

  it("has a row for every procedure of the contract, and no row for a procedure that does not exist", () => {
    const names = listProcedures(contract).map((p) => p.name);
    expect(names.filter((name) => !policy.has(name)), "procedures without a policy row in docs/security-policy.md").toEqual([]);
    expect([...policy.keys()].filter((name) => !names.includes(name))).toEqual([]);
  });

  for (const { name } of listProcedures(contract)) {
    it(`${name} obeys its row`, async () => {
      const row = policy.get(name);
      expect(row, `${name} has no row in docs/security-policy.md`).toBeDefined();
      for (const caller of CALLERS) {
        const status = await callAs(name, caller);
        const refused = status === 401 || status === 403 || status === 404;
        expect({ caller, refused, status }).toEqual({ caller, refused: !row![caller], status });
      }
    });
  }
});

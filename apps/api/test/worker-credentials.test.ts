import { WORKER_TOKEN_HEADER } from "@ops/contract";
import type { OpsDatabase } from "@ops/db";
import pino from "pino";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";
import { WORKER_CREDENTIALS_CHANNEL, WorkerTokenCache } from "../src/auth/worker-token.ts";
import { ADMIN_DATABASE_URL } from "../../../tests/support/postgres.ts";
import { createUser, sqlRows, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are checked field by field
type Body = any;

// Issue 13 and 17 as an attacker tried them, on real PostgreSQL with two
// workspaces: a launcher's worker token acts only as its own worker id, only
// on its pool's tasks, reads nothing else, and stops working the moment it is
// revoked, on every API instance.

let api: TestApi;
let seq = 0;
let ws1Admin: Record<string, string>;
let ws2Admin: Record<string, string>;

const asWorker = (token: string) => api.restAs({ [WORKER_TOKEN_HEADER]: token });
const heartbeatBody = (worker_id: string, extra: Record<string, unknown> = {}) => ({
  worker_id,
  hostname: "h",
  pid: 1,
  version: "t",
  agent_slugs: ["codex"],
  free_slots: 4,
  ...extra,
});

async function issue(workerId: string, workspaceIds: number[] | null, as = api.rest): Promise<{ token: string; id: number }> {
  const res = await as("POST", "/workers/tokens", { worker_id: workerId, workspace_ids: workspaceIds, label: `test ${workerId}` });
  expect(res.status, JSON.stringify(res.body)).toBe(200);
  return { token: res.body.token, id: res.body.credential.id };
}
async function queuedTask(workspaceId: number, fields: Record<string, unknown> = {}): Promise<number> {
  const created = await api.rest("POST", "/tasks", { workspace_id: workspaceId, title: `t${++seq}`, execution: "interactive", agent_slug: "codex", ...fields });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const queued = await api.rest("POST", `/tasks/${created.body.id}/dispatch`);
  expect(queued.status, JSON.stringify(queued.body)).toBe(200);
  return created.body.id;
}
const workspaceOf = async (taskId: number) => (await api.rest("GET", `/tasks/${taskId}`)).body.workspace_id as number;

beforeAll(async () => {
  api = await startTestApi("postgres");
  ws1Admin = await createUser(api, "ws1-admin", "admin", 1);
  ws2Admin = await createUser(api, "ws2-admin", "admin", 2);
  expect((await api.rest("POST", "/agents", { workspace_id: 2, slug: "codex", name: "Codex (ws2)" })).status).toBe(200);
  await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
});
afterAll(async () => api?.close());

beforeEach(async () => {
  await sqlRows(api, "update tasks set status = 'done', claimed_by = null where status in ('queued','dispatching','doing')");
  await sqlRows(api, "delete from worker_heartbeats");
});

describe("issuing worker tokens", () => {
  it("shows the token once, stores only its sha256, and lists it with its last use, never the token", async () => {
    const res = await api.rest("POST", "/workers/tokens", { worker_id: "vm-list", workspace_ids: [1], label: "rack 3" });
    expect(res.body.token).toMatch(/^opsw_[A-Za-z0-9_-]{43}$/);
    expect(res.body.credential).toMatchObject({ worker_id: "vm-list", workspace_ids: [1], label: "rack 3", created_by: "service", last_used_at: null, revoked_at: null });
    const [stored] = await sqlRows<{ token_hash: string }>(api, `select token_hash from worker_credentials where id = ${res.body.credential.id}`);
    expect(stored!.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(res.body.token.slice(5));
    await asWorker(res.body.token)("POST", "/dispatch/heartbeat", heartbeatBody("vm-list"));
    const listed = (await api.rest("GET", "/workers/tokens")).body as Body[];
    expect(listed.find((c) => c.id === res.body.credential.id).last_used_at).not.toBeNull();
    expect(JSON.stringify(listed)).not.toContain(res.body.token.slice(5));
    const audit = (await api.rest("GET", "/audit?action=worker_token.issued")).body as Body[];
    expect(JSON.stringify(audit)).not.toContain(res.body.token.slice(5));
  });

  it("writes last use at most about once a minute, not on every request", async () => {
    const { token, id } = await issue("vm-touch", [1]);
    await asWorker(token)("GET", "/dispatch/credential");
    const [first] = await sqlRows<{ last_used_at: string }>(api, `select last_used_at::text from worker_credentials where id = ${id}`);
    for (let i = 0; i < 5; i++) await asWorker(token)("GET", "/dispatch/credential");
    const [again] = await sqlRows<{ last_used_at: string }>(api, `select last_used_at::text from worker_credentials where id = ${id}`);
    expect(again!.last_used_at).toBe(first!.last_used_at);
  });

  it("lets a workspace admin issue, list and revoke only pools of its own workspaces", async () => {
    const whole = await api.restAs(ws2Admin)("POST", "/workers/tokens", { worker_id: "vm-root", workspace_ids: null });
    expect(whole.status).toBe(403);
    expect(whole.body.error).toMatchObject({ code: "FORBIDDEN", field: "workspace_ids" });
    const other = await api.restAs(ws2Admin)("POST", "/workers/tokens", { worker_id: "vm-root", workspace_ids: [1, 2] });
    expect(other.status).toBe(404);
    expect(other.body.error.message).toBe("workspace 1 not found");
    const mine = await issue("vm-ws2", [2], api.restAs(ws2Admin));
    const ws1Token = await issue("vm-ws1-only", [1]);
    const listed = (await api.restAs(ws2Admin)("GET", "/workers/tokens")).body as Body[];
    expect(listed.map((c) => c.worker_id)).toContain("vm-ws2");
    expect(listed.every((c) => c.workspace_ids?.every((w: number) => w === 2))).toBe(true);
    const revokeOther = await api.restAs(ws2Admin)("POST", `/workers/tokens/${ws1Token.id}/revoke`);
    expect(revokeOther.status).toBe(404);
    expect(revokeOther.body.error.message).toBe(`worker token ${ws1Token.id} not found`);
    expect((await asWorker(ws1Token.token)("GET", "/dispatch/credential")).status).toBe(200);
    expect((await api.restAs(ws2Admin)("POST", `/workers/tokens/${mine.id}/revoke`)).body).toMatchObject({ revoked_by: "user:ws2-admin" });
  });

  it("keeps one pool per worker id, and a workspace admin off another launcher's id", async () => {
    await issue("vm-one-pool", [1]);
    const other = await api.rest("POST", "/workers/tokens", { worker_id: "vm-one-pool", workspace_ids: [2] });
    expect(other.status).toBe(409);
    expect(other.body.error).toMatchObject({ code: "CONFLICT", field: "worker_id" });
    // A second token of the same pool is a rotation: allowed.
    await issue("vm-one-pool", [1]);
    // vm-shared heartbeats with the service token, for the whole instance: workspace 2's admin may not take its id.
    await api.rest("POST", "/dispatch/heartbeat", heartbeatBody("vm-shared"));
    const takeover = await api.restAs(ws2Admin)("POST", "/workers/tokens", { worker_id: "vm-shared", workspace_ids: [2] });
    expect(takeover.status).toBe(409);
    expect(takeover.body.error.message).toMatch(/taken by a launcher outside your workspaces/);
  });
});

describe("a worker token", () => {
  it("of pool {1} never claims a workspace-2 task, even at priority 1000 and under concurrent claims", async () => {
    const ws2 = await Promise.all(Array.from({ length: 30 }, () => queuedTask(2, { priority: 1000 })));
    const ws1 = await Promise.all(Array.from({ length: 30 }, () => queuedTask(1)));
    const pool1 = await Promise.all(Array.from({ length: 6 }, (_, i) => issue(`vm-p1-${i}`, [1])));
    const pool2 = await Promise.all(Array.from({ length: 6 }, (_, i) => issue(`vm-p2-${i}`, [2])));
    const claimed = new Map<number, string>();
    const drain = async (workerId: string, token: string, expectWorkspace: number) => {
      for (;;) {
        const res = await asWorker(token)("POST", "/dispatch/next", { worker_id: workerId, agent_slugs: ["codex"] });
        expect(res.status, JSON.stringify(res.body)).toBe(200);
        if (!res.body.claimed) return;
        expect(res.body.task.workspace_id, `${workerId} claimed task ${res.body.task.id}`).toBe(expectWorkspace);
        expect(claimed.has(res.body.task.id), `task ${res.body.task.id} claimed twice`).toBe(false);
        claimed.set(res.body.task.id, workerId);
      }
    };
    // Pool {1} drains workspace 1 first, concurrently, while workspace 2's priority-1000 tasks wait.
    await Promise.all(pool1.map((c, i) => drain(`vm-p1-${i}`, c.token, 1)));
    expect([...claimed.keys()].sort()).toEqual([...ws1].sort());
    for (const id of ws2) expect((await api.rest("GET", `/tasks/${id}`)).body.status).toBe("queued");
    await Promise.all(pool2.map((c, i) => drain(`vm-p2-${i}`, c.token, 2)));
    expect(claimed.size).toBe(60);
  });

  it("acts only as its own worker id", async () => {
    const { token } = await issue("vm-bound", [1]);
    const as = asWorker(token);
    const next = await as("POST", "/dispatch/next", { worker_id: "vm-other", agent_slugs: ["codex"] });
    expect(next.status).toBe(403);
    expect(next.body.error).toEqual({
      code: "FORBIDDEN",
      field: "worker_id",
      message: "this worker token is bound to worker vm-bound; it cannot act as worker vm-other",
    });
    expect((await as("POST", "/dispatch/heartbeat", heartbeatBody("vm-other"))).status).toBe(403);
    // The other worker's claim: its reports under the other id are refused before anything is read.
    const id = await queuedTask(1);
    const claim = (await api.rest("POST", "/dispatch/next", { worker_id: "vm-other", agent_slugs: ["codex"] })).body;
    expect(claim.task.id).toBe(id);
    const fence = { worker_id: "vm-other", attempt: claim.attempt };
    expect((await as("POST", `/dispatch/tasks/${id}/started`, { ...fence, pid: 2, command: ["x"], log_path: "/l", err_log_path: "/e" })).status).toBe(403);
    expect((await as("POST", `/dispatch/tasks/${id}/failed`, { ...fence, reason: "sabotage" })).status).toBe(403);
    expect((await as("POST", `/dispatch/tasks/${id}/finished`, { ...fence, exit_code: 0, duration_ms: 1 })).status).toBe(403);
    expect((await api.rest("GET", `/tasks/${id}`)).body).toMatchObject({ status: "dispatching", claimed_by: "vm-other" });
    // Its own id works.
    expect((await as("POST", "/dispatch/heartbeat", heartbeatBody("vm-bound"))).status).toBe(200);
  });

  it("reads no other data and changes nothing else", async () => {
    const { token } = await issue("vm-nosy", [1]);
    const as = asWorker(token);
    const task = await queuedTask(1);
    for (const [method, path, body] of [
      ["GET", "/tasks"],
      ["GET", `/tasks/${task}`],
      ["GET", `/tasks/${task}/context`],
      ["GET", "/agents"],
      ["GET", "/settings"],
      ["GET", "/dispatch/health"],
      ["GET", "/auth/me"],
      ["GET", "/audit"],
      ["GET", "/workers/tokens"],
      ["PATCH", "/agents/1", { launch_command: "sh -c id" }],
      ["PUT", "/settings/dispatch_enabled", { value: "false" }],
      ["POST", "/workers/tokens", { worker_id: "vm-nosy-2", workspace_ids: null }],
      ["POST", `/tasks/${task}/context`, { kind: "note", body: "x" }],
    ] as const) {
      const res = await as(method, path, body);
      expect({ path, status: res.status }).toEqual({ path, status: 403 });
    }
  });

  it("gets 404, like a missing id, for a report on a task outside its pool", async () => {
    const { token } = await issue("vm-fence", [1]);
    const id = await queuedTask(2);
    // The same worker id holds a workspace-2 claim through the service token (the whole instance).
    const claim = (await api.rest("POST", "/dispatch/next", { worker_id: "vm-fence", agent_slugs: ["codex"] })).body;
    expect(claim.task.id).toBe(id);
    const res = await asWorker(token)("POST", `/dispatch/tasks/${id}/failed`, { worker_id: "vm-fence", attempt: claim.attempt, reason: "nope" });
    expect(res.status).toBe(404);
    expect(res.body.error.message).toBe(`task ${id} not found`);
    expect((await api.rest("GET", `/tasks/${id}`)).body.status).toBe("dispatching");
  });

  it("is told why to stop a task, and nothing of other workspaces' tasks", async () => {
    const { token } = await issue("vm-stop", [1]);
    const as = asWorker(token);
    const mine = await queuedTask(1);
    const claim = (await as("POST", "/dispatch/next", { worker_id: "vm-stop", agent_slugs: ["codex"] })).body;
    expect(claim.task.id).toBe(mine);
    await api.rest("POST", `/tasks/${mine}/cancel`);
    const foreign = await queuedTask(2);
    await api.rest("POST", "/dispatch/next", { worker_id: "vm-elsewhere", agent_slugs: ["codex"] });
    const beat = (await as("POST", "/dispatch/heartbeat", heartbeatBody("vm-stop", { running_task_ids: [mine, foreign] }))).body;
    expect(beat.stop_task_ids).toEqual([mine, foreign]);
    expect(beat.stop_tasks).toEqual([
      { id: mine, code: "cancelled", reason: "cancelled by operator" },
      { id: foreign, code: "not_held", reason: "task no longer held by this worker" },
    ]);
  });

  it("gets the active agents of its pool, and says who it is", async () => {
    const { token } = await issue("vm-agents", [2]);
    const agents = (await asWorker(token)("GET", "/dispatch/agents")).body as Body[];
    expect(agents.map((a) => a.workspace_id)).toEqual([2]);
    expect(agents[0]).toMatchObject({ slug: "codex", launch_command: null });
    const all = (await api.rest("GET", "/dispatch/agents")).body as Body[];
    expect(new Set(all.map((a) => a.workspace_id))).toEqual(new Set([1, 2]));
    expect((await asWorker(token)("GET", "/dispatch/credential")).body).toEqual({
      credential: "worker_token",
      worker_id: "vm-agents",
      label: "test vm-agents",
      workspace_ids: [2],
      dispatch_enabled: true,
    });
  });

  it("gets 401 at once when revoked, on every API instance", async () => {
    const [current] = await sqlRows<{ db: string }>(api, "select current_database() as db");
    const url = new URL(ADMIN_DATABASE_URL);
    url.pathname = `/${current!.db}`;
    const second = await startTestApi("postgres", { DATABASE_URL: url.toString() });
    try {
      const { token, id } = await issue("vm-revoked", [1]);
      const onSecond = () => second.restAs({ [WORKER_TOKEN_HEADER]: token })("POST", "/dispatch/heartbeat", heartbeatBody("vm-revoked"));
      expect((await onSecond()).status).toBe(200);
      // The second instance now serves this token from its cache (no database read).
      const lookups = second.deps.workerTokens.lookups;
      expect((await onSecond()).status).toBe(200);
      expect(second.deps.workerTokens.lookups).toBe(lookups);
      // The revoke's NOTIFY reaches the second instance at commit, before the revoke's answer; its
      // handling there and the next HTTP request are two sockets of one event loop, so the test
      // waits for the invalidation itself (no sleep) rather than assume which is read first.
      const dropped = second.deps.workerTokens.invalidated(id);
      expect((await api.restAs(ws1Admin)("POST", `/workers/tokens/${id}/revoke`)).status).toBe(200);
      await dropped;
      const refused = await onSecond();
      expect(refused.status).toBe(401);
      expect(refused.body.error).toEqual({ code: "UNAUTHORIZED", message: "invalid or revoked worker token" });
      expect((await asWorker(token)("POST", "/dispatch/next", { worker_id: "vm-revoked", agent_slugs: ["codex"] })).status).toBe(401);
    } finally {
      await second.close();
    }
  });
});

describe("the per-instance worker token cache (issue 12)", () => {
  const listenPid = async () =>
    (
      await sqlRows<{ pid: number }>(
        api,
        `select pid from pg_stat_activity where datname = current_database() and query ilike 'listen%${WORKER_CREDENTIALS_CHANNEL}%'`,
      )
    ).map((r) => r.pid);

  it("serves a warm token without reading the database: N requests, no credential lookup", async () => {
    const { token, id } = await issue("vm-warm", [1]);
    const cache = api.deps.workerTokens;
    expect(cache.active).toBe(true);
    expect((await asWorker(token)("GET", "/dispatch/credential")).status).toBe(200);
    const lookups = cache.lookups;
    for (let i = 0; i < 20; i++) {
      expect((await asWorker(token)("POST", "/dispatch/heartbeat", heartbeatBody("vm-warm"))).status).toBe(200);
    }
    expect(cache.lookups).toBe(lookups);
    // Proof that no request read the row: revoked behind the API's back (no NOTIFY), the copy still answers…
    await sqlRows(api, `update worker_credentials set revoked_at = now(), revoked_by = 'test' where id = ${id}`);
    expect((await asWorker(token)("GET", "/dispatch/credential")).status).toBe(200);
    // …until the NOTIFY a revoke sends arrives.
    const dropped = cache.invalidated(id);
    await sqlRows(api, `select pg_notify('${WORKER_CREDENTIALS_CHANNEL}', '${id}')`);
    await dropped;
    expect((await asWorker(token)("GET", "/dispatch/credential")).status).toBe(401);
    expect(cache.lookups).toBe(lookups + 1);
  });

  it("never caches an unknown token: each attempt reads the database and gets 401", async () => {
    const cache = api.deps.workerTokens;
    const lookups = cache.lookups;
    for (let i = 0; i < 3; i++) expect((await asWorker(`opsw_${"x".repeat(43)}`)("GET", "/dispatch/credential")).status).toBe(401);
    expect(cache.lookups).toBe(lookups + 3);
  });

  it("is cleared when the LISTEN connection drops, so a change missed meanwhile is seen", async () => {
    const { token, id } = await issue("vm-drop", [1]);
    const cache = api.deps.workerTokens;
    expect((await asWorker(token)("GET", "/dispatch/credential")).status).toBe(200);
    await sqlRows(api, `update worker_credentials set revoked_at = now(), revoked_by = 'test' where id = ${id}`);
    expect((await asWorker(token)("GET", "/dispatch/credential")).status).toBe(200);
    const drops = cache.listenDrops;
    const pids = await listenPid();
    expect(pids.length).toBeGreaterThan(0);
    await sqlRows(api, `select pg_terminate_backend(pid) from pg_stat_activity where pid in (${pids.join(",")})`);
    await vi.waitFor(() => expect(cache.listenDrops).toBeGreaterThan(drops), { timeout: 10_000 });
    // Down (bypassed) or already back (cleared): either way the next request reads the database.
    expect((await asWorker(token)("GET", "/dispatch/credential")).status).toBe(401);
    await vi.waitFor(() => expect(cache.active).toBe(true), { timeout: 10_000 });
    const { token: fresh } = await issue("vm-after-drop", [1]);
    expect((await asWorker(fresh)("GET", "/dispatch/credential")).status).toBe(200);
    const lookups = cache.lookups;
    expect((await asWorker(fresh)("GET", "/dispatch/credential")).status).toBe(200);
    expect(cache.lookups).toBe(lookups);
  });

  it("is bypassed while LISTEN is down: every request reads the database, and caching resumes when it is back", async () => {
    // The instance's own LISTEN comes back within milliseconds of a drop; this cache's
    // LISTEN callbacks are held by the test so it can stay "down" as long as needed.
    let down: (() => void) | undefined;
    let up: (() => void) | undefined;
    const database: OpsDatabase = {
      ...api.database,
      listen: (channel, onPayload, onListen, onClose) => {
        up = onListen;
        down = onClose;
        return api.database.listen(channel, onPayload);
      },
    };
    const cache = new WorkerTokenCache(api.database.db, database, pino({ level: "silent" }), 1000);
    await cache.start();
    try {
      const { token, id } = await issue("vm-down", [1]);
      expect(await cache.principal(token)).toMatchObject({ kind: "worker", workerId: "vm-down", workspaceIds: [1] });
      const warm = cache.lookups;
      await cache.principal(token);
      expect(cache.lookups).toBe(warm);
      down!();
      expect(cache.active).toBe(false);
      expect(cache.size).toBe(0);
      for (let i = 1; i <= 3; i++) {
        expect(await cache.principal(token)).toMatchObject({ workerId: "vm-down" });
        expect(cache.lookups).toBe(warm + i);
      }
      expect(cache.size).toBe(0);
      // A revoke whose NOTIFY this cache cannot hear is honoured at the next request.
      await sqlRows(api, `update worker_credentials set revoked_at = now(), revoked_by = 'test' where id = ${id}`);
      expect(await cache.principal(token)).toBeUndefined();
      up!();
      const { token: other } = await issue("vm-up", [1]);
      await cache.principal(other);
      const back = cache.lookups;
      await cache.principal(other);
      expect(cache.lookups).toBe(back);
    } finally {
      await cache.stop();
    }
  });

  it("refreshes last use of cached tokens in the batch written at the flush, once the copy says more than a minute", async () => {
    const a = await issue("vm-batch-a", [1]);
    const b = await issue("vm-batch-b", [1]);
    const cache = api.deps.workerTokens;
    await asWorker(a.token)("GET", "/dispatch/credential");
    await asWorker(b.token)("GET", "/dispatch/credential");
    // Last used more than a minute ago (as after a quiet minute): the next cached uses queue a refresh.
    await sqlRows(api, `update worker_credentials set last_used_at = now() - interval '5 minutes' where id in (${a.id}, ${b.id})`);
    await cache.revalidate();
    await asWorker(a.token)("GET", "/dispatch/credential");
    await asWorker(b.token)("GET", "/dispatch/credential");
    await cache.flush();
    const rows = await sqlRows<{ fresh: boolean }>(api, `select last_used_at > now() - interval '1 minute' as fresh from worker_credentials where id in (${a.id}, ${b.id})`);
    expect(rows.map((r) => r.fresh)).toEqual([true, true]);
  });
});

describe("health and the dispatch explanation show the pools", () => {
  it("says which launcher uses the service token, in words", async () => {
    await api.rest("POST", "/dispatch/heartbeat", heartbeatBody("vm-legacy"));
    const { token } = await issue("vm-modern", null);
    await asWorker(token)("POST", "/dispatch/heartbeat", heartbeatBody("vm-modern"));
    const health = (await api.rest("GET", "/dispatch/health")).body;
    // A warning: the runbook's service-token launcher still works, so it does not make health not ok by itself.
    expect(health.problems).toContainEqual({
      code: "WORKER_USES_SERVICE_TOKEN",
      message: "launcher vm-legacy uses the service token; issue it a worker token",
      params: { workers: "vm-legacy", count: 1 },
      severity: "warning",
    });
    expect(health.ok).toBe(health.problems.every((p: Body) => p.severity === "warning"));
    expect(health.workers.find((w: Body) => w.worker_id === "vm-legacy")).toMatchObject({ credential: "service", workspace_ids: null });
    expect(health.workers.find((w: Body) => w.worker_id === "vm-modern")).toMatchObject({ credential: "worker_token", workspace_ids: null });
  });

  it("says no fresh worker serves workspace 2, and so does the task's explanation", async () => {
    const { token } = await issue("vm-ws1", [1]);
    await asWorker(token)("POST", "/dispatch/heartbeat", heartbeatBody("vm-ws1"));
    const waiting = await queuedTask(2);
    const health = (await api.rest("GET", "/dispatch/health")).body;
    const problem = health.problems.find((p: Body) => p.code === "NO_WORKER_FOR_WORKSPACE");
    expect(problem).toMatchObject({ params: { workspace_id: 2, queued: 1 } });
    expect(problem.message).toMatch(/^no fresh worker serves workspace 2 \(1 task\(s\) queued\)/);
    expect(health.problems.some((p: Body) => p.code === "NO_WORKER_FOR_WORKSPACE" && p.params.workspace_id === 1)).toBe(false);
    const explanation = (await api.rest("GET", `/tasks/${waiting}/dispatch-explanation`)).body;
    expect(explanation.reasons).toContainEqual({ code: "NO_WORKER_FOR_WORKSPACE", message: "no fresh worker serves workspace 2", params: { workspace_id: 2 } });
    expect((await api.restAs(ws2Admin)("GET", "/dispatch/workspaces")).body).toEqual([
      { workspace_id: 2, name: "Workspace 2", dispatch_enabled: true, fresh_workers: 0, queued: 1 },
    ]);
    expect(await workspaceOf(waiting)).toBe(2);
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { SERVICE_TOKEN_HEADER } from "@ops/contract";
import { createUser, DB_KINDS, SERVICE_TOKEN, sqlRows, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are checked field by field
type Body = any;

describe.each(DB_KINDS)("dispatch engine on %s", (kind) => {
  let api: TestApi;
  let seq = 0;
  const worker = (name: string) => `${kind}-${name}`;

  beforeAll(async () => {
    // No re-poll within a test: only the NOTIFY wake-up can answer a parked dispatch/next early.
    api = await startTestApi(kind, { OPS_DISPATCH_REPOLL_MS: "3600000" });
  });
  afterAll(async () => api?.close());

  beforeEach(async () => {
    // Each test starts from an empty queue with dispatch on and default thresholds.
    await sqlRows(api, "update tasks set status = 'done', claimed_by = null where status in ('queued','dispatching','doing')");
    await sqlRows(api, "delete from worker_heartbeats");
    for (const [key, value] of Object.entries({
      dispatch_enabled: "true",
      dispatch_stale_minutes: "20",
      dispatch_worker_stale_seconds: "90",
      dispatch_max_concurrent: "0",
      dispatch_agent_caps: "{}",
      dispatch_failure_alert_threshold: "3",
    })) {
      await api.rest("PUT", `/settings/${key}`, { value });
    }
  });

  async function newTask(fields: Record<string, unknown> = {}): Promise<Body> {
    const res = await api.rest("POST", "/tasks", { title: `task ${++seq}`, execution: "interactive", agent_slug: "codex", ...fields });
    expect(res.status).toBe(200);
    return res.body;
  }
  async function queued(fields: Record<string, unknown> = {}): Promise<Body> {
    const task = await newTask(fields);
    const res = await api.rest("POST", `/tasks/${task.id}/dispatch`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.status).toBe("queued");
    return res.body;
  }
  const heartbeat = (workerId: string, agent_slugs: string[] = ["codex"], extra: Record<string, unknown> = {}) =>
    api.rest("POST", "/dispatch/heartbeat", {
      worker_id: workerId, hostname: "test-host", pid: 4242, version: "test", agent_slugs, free_slots: 2, ...extra,
    });
  const next = (workerId: string, agent_slugs: string[] = ["codex"], extra: Record<string, unknown> = {}) =>
    api.rest("POST", "/dispatch/next", { worker_id: workerId, agent_slugs, ...extra });
  const started = (id: number, workerId: string, attempt: number) =>
    api.rest("POST", `/dispatch/tasks/${id}/started`, {
      worker_id: workerId, attempt, pid: 999, command: ["codex", "exec", "prompt"], log_path: "/tmp/a.log", err_log_path: "/tmp/a.err.log",
    });
  const task = async (id: number): Promise<Body> => (await api.rest("GET", `/tasks/${id}`)).body;

  describe("POST /tasks/:id/dispatch", () => {
    it("queues an interactive task with an active agent", async () => {
      const t = await queued();
      expect(t.queued_at).not.toBeNull();
    });

    it("refuses with a code that says why, and changes nothing", async () => {
      const manual = await newTask({ execution: "manual" });
      expect((await api.rest("POST", `/tasks/${manual.id}/dispatch`)).body.error.code).toBe("NOT_INTERACTIVE");
      const noAgent = await newTask({ agent_slug: undefined });
      const r1 = await api.rest("POST", `/tasks/${noAgent.id}/dispatch`);
      expect(r1.status).toBe(409);
      expect(r1.body.error.code).toBe("NO_AGENT");
      const blocked = await newTask();
      await api.rest("PATCH", `/tasks/${blocked.id}`, { blocked: true, blocked_reason: "waiting on infra" });
      expect((await api.rest("POST", `/tasks/${blocked.id}/dispatch`)).body.error.code).toBe("BLOCKED");
      const done = await newTask({ agent_slug: "hermes" });
      await api.rest("PATCH", `/tasks/${done.id}/status?force=true`, { status: "done" });
      expect((await api.rest("POST", `/tasks/${done.id}/dispatch`)).body.error.code).toBe("BAD_STATUS");
      expect((await task(done.id)).status).toBe("done");
    });

    it("refuses an inactive agent", async () => {
      const agent = (await api.rest("POST", "/agents", { slug: `inactive-${kind}`, name: "Inactive" })).body;
      await api.rest("PATCH", `/agents/${agent.id}`, { active: false });
      const t = await newTask({ agent_slug: agent.slug });
      const res = await api.rest("POST", `/tasks/${t.id}/dispatch`);
      expect(res.body.error.code).toBe("AGENT_INACTIVE");
      expect((await task(t.id)).status).toBe("backlog");
    });
  });

  describe("Human Gate", () => {
    it("holds a sensitive task: not queued, blocked with the reason, a blocker entry written", async () => {
      const t = await newTask({ sensitive: true });
      const res = await api.rest("POST", `/tasks/${t.id}/dispatch`);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("HUMAN_GATE");
      const after = await task(t.id);
      expect(after).toMatchObject({ status: "backlog", blocked: true });
      expect(after.blocked_reason).toMatch(/Human Gate/);
      const context = (await api.rest("GET", `/tasks/${t.id}/context`)).body;
      expect(context).toEqual([expect.objectContaining({ kind: "blocker", source: "system" })]);
    });

    it("is released only by an admin's approval, then dispatches and claims", async () => {
      const t = await newTask({ sensitive: true });
      await api.rest("POST", `/tasks/${t.id}/dispatch`);
      const member = await createUser(api, `member-gate-${kind}`, "member");
      const denied = await api.restAs(member)("POST", `/tasks/${t.id}/approve`);
      expect(denied.status).toBe(403);
      const admin = await api.login();
      const approved = await api.restAs(admin)("POST", `/tasks/${t.id}/approve`);
      expect(approved.body).toMatchObject({ blocked: false, approved_by: "user:admin" });
      await api.rest("POST", `/tasks/${t.id}/dispatch`);
      const claim = await next(worker("gate"));
      expect(claim.body).toMatchObject({ claimed: true, task: { id: t.id } });
    });

    it("never hands out an unapproved sensitive task, whatever its status", async () => {
      const t = await newTask({ sensitive: true });
      await sqlRows(api, `update tasks set status = 'queued', queued_at = now() where id = ${t.id}`);
      const res = await next(worker("gate2"));
      expect(res.body).toMatchObject({ claimed: false, reason: "empty" });
    });
  });

  describe("POST /dispatch/next", () => {
    it("says dispatch_disabled when the switch is off and claims nothing", async () => {
      const t = await queued();
      await api.rest("PUT", "/settings/dispatch_enabled", { value: "false" });
      expect((await next(worker("off"))).body).toMatchObject({ claimed: false, reason: "dispatch_disabled" });
      expect((await task(t.id)).status).toBe("queued");
    });

    it("claims the task with its agent, context, attempt and a task token", async () => {
      const t = await queued();
      await api.rest("POST", `/tasks/${t.id}/context`, { kind: "note", body: "use branch x" });
      const res = await next(worker("a"));
      expect(res.body).toMatchObject({
        claimed: true,
        attempt: 1,
        task: { id: t.id, status: "dispatching", claimed_by: worker("a") },
        agent: { slug: "codex" },
        context: [expect.objectContaining({ body: "use branch x" })],
      });
      expect(res.body.task_token).toEqual(expect.any(String));
      expect((await next(worker("b"))).body).toMatchObject({ claimed: false, reason: "empty" });
    });

    it("orders by priority, then by age", async () => {
      const low = await queued({ priority: 0 });
      const high = await queued({ priority: 5 });
      const low2 = await queued({ priority: 0 });
      const order = [];
      for (let i = 0; i < 3; i++) order.push((await next(worker("order"))).body.task.id);
      expect(order).toEqual([high.id, low.id, low2.id]);
    });

    it("only gives a worker tasks for its usable agent slugs", async () => {
      const hermes = await queued({ agent_slug: "hermes" });
      expect((await next(worker("codex-only"), ["codex"])).body.claimed).toBe(false);
      expect((await next(worker("hermes"), ["hermes", "codex"])).body.task.id).toBe(hermes.id);
    });

    it("matches worker model filters by family (runbook 3.3)", async () => {
      const cases: Array<[string, string[], boolean]> = [
        ["minimax-m2", ["minimax*"], true],
        ["minimax2.7", ["minimax*"], true],
        ["qwen3.6", ["qwen*"], true],
        ["local-qwen3.6-coder", ["qwen*"], true],
        ["gemma4", ["gemma*"], true],
        ["local-gemma4", ["gemma*"], true],
        ["gpt-5", ["gpt-*"], true],
        ["local-gpt-5", ["gpt-*"], false],
        ["qwen3.6", ["gemma*", "gpt-*"], false],
        ["gpt-5", ["gpt-5"], true],
        ["gpt-5-mini", ["gpt-5"], false],
      ];
      for (const [model, models, expected] of cases) {
        const t = await queued({ model });
        const res = await next(worker("models"), ["codex"], { models });
        expect({ model, models, claimed: res.body.claimed }).toEqual({ model, models, claimed: expected });
        if (!expected) await api.rest("POST", `/tasks/${t.id}/cancel`);
      }
      // A task without a model matches any worker.
      await queued({ model: null });
      expect((await next(worker("models"), ["codex"], { models: ["qwen*"] })).body.claimed).toBe(true);
    });

    it("long-polls and wakes when a matching task is queued", async () => {
      // Parked for 30 s with no re-poll: only the NOTIFY of the queued task can
      // answer before the wait ends. Without it the call is still parked when
      // the test gives up on it (15 s) and aborts, and the test fails.
      const parked = fetch(`${api.apiBase}/dispatch/next`, {
        method: "POST",
        headers: { "content-type": "application/json", [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN },
        body: JSON.stringify({ worker_id: worker("poll"), agent_slugs: ["codex"], wait_ms: 30_000 }),
        signal: AbortSignal.timeout(15_000),
      });
      await new Promise((r) => setTimeout(r, 300));
      const t = await queued();
      const res = await parked.catch((error: Error) => {
        throw new Error(`the parked dispatch/next was not woken by the queued task's NOTIFY (${error.name})`);
      });
      expect(await res.json()).toMatchObject({ claimed: true, task: { id: t.id } });
    });
  });

  describe("launcher reports, fenced by the claim", () => {
    it("started → doing with dispatch_output; finished → review with checkpoint and AI time", async () => {
      const t = await queued();
      const claim = (await next(worker("r"))).body;
      const s = await started(t.id, worker("r"), claim.attempt);
      expect(s.body).toMatchObject({ status: "doing", dispatch_output: { pid: 999, log_path: "/tmp/a.log" } });
      const f = await api.rest("POST", `/dispatch/tasks/${t.id}/finished`, {
        worker_id: worker("r"), attempt: claim.attempt, exit_code: 0, duration_ms: 150_000, log_path: "/tmp/a.log",
      });
      expect(f.body).toMatchObject({ status: "review", dispatch_output: { exit_code: 0, pid: 999 } });
      const context = (await api.rest("GET", `/tasks/${t.id}/context`)).body;
      expect(context).toEqual([expect.objectContaining({ kind: "checkpoint", source: "launcher" })]);
      expect((await api.rest("GET", `/tasks/${t.id}/time-logs`)).body).toEqual([expect.objectContaining({ source: "ai", minutes: 3 })]);
    });

    it("failed → waiting, blocked with the concrete reason, blocker evidence, alert, AI time", async () => {
      const t = await queued();
      const claim = (await next(worker("f"))).body;
      const reason = "launcher process exited early (code=127, signal=null)";
      const res = await api.rest("POST", `/dispatch/tasks/${t.id}/failed`, {
        worker_id: worker("f"), attempt: claim.attempt, reason, evidence: "codex: command not found", exit_code: 127, duration_ms: 800,
      });
      expect(res.body).toMatchObject({ status: "waiting", blocked: true, blocked_reason: reason, claimed_by: null });
      const context = (await api.rest("GET", `/tasks/${t.id}/context`)).body;
      expect(context.at(-1)).toMatchObject({ kind: "blocker", source: "launcher" });
      expect(context.at(-1).body).toContain("command not found");
      expect((await api.rest("GET", `/tasks/${t.id}/time-logs`)).body).toEqual([expect.objectContaining({ source: "ai", minutes: 1 })]);
      const alerts = (await api.rest("GET", "/alerts")).body;
      expect(alerts).toContainEqual(expect.objectContaining({ task_id: t.id, kind: "dispatch_failed", status: "open" }));
    });

    it("refuses a report from a worker that no longer holds the attempt, changing nothing", async () => {
      const t = await queued();
      const claim = (await next(worker("old"))).body;
      expect((await started(t.id, worker("intruder"), claim.attempt)).body.error.code).toBe("STALE_CLAIM");
      expect((await started(t.id, worker("old"), claim.attempt + 1)).body.error.code).toBe("STALE_CLAIM");
      // The watchdog takes the task away; the old worker's late reports bounce.
      await sqlRows(api, `update tasks set claimed_at = now() - interval '30 minutes' where id = ${t.id}`);
      await api.rest("POST", "/dispatch/reconcile-stale", { minutes: 20 });
      const before = await task(t.id);
      const late = await started(t.id, worker("old"), claim.attempt);
      expect(late.status).toBe(409);
      expect(late.body.error.code).toBe("STALE_CLAIM");
      const lateFinish = await api.rest("POST", `/dispatch/tasks/${t.id}/finished`, {
        worker_id: worker("old"), attempt: claim.attempt, exit_code: 0, duration_ms: 10,
      });
      expect(lateFinish.body.error.code).toBe("STALE_CLAIM");
      expect(await task(t.id)).toEqual(before);
    });

    it("tells a worker, on heartbeat, to stop tasks it no longer holds", async () => {
      const t = await queued();
      const claim = (await next(worker("hb"))).body;
      await started(t.id, worker("hb"), claim.attempt);
      expect((await heartbeat(worker("hb"), ["codex"], { running_task_ids: [t.id] })).body.stop_task_ids).toEqual([]);
      await api.rest("POST", `/tasks/${t.id}/cancel`);
      expect((await heartbeat(worker("hb"), ["codex"], { running_task_ids: [t.id] })).body.stop_task_ids).toEqual([t.id]);
    });
  });

  describe("stale watchdog", () => {
    it("reconciles a stale dispatch exactly as runbook 3.1 says, reopening one alert per task", async () => {
      const t = await queued();
      await next(worker("stale"));
      await sqlRows(api, `update tasks set claimed_at = now() - interval '25 minutes' where id = ${t.id}`);
      const health = (await api.rest("GET", "/dispatch/health")).body;
      expect(health.queue.stale_dispatching).toBe(1);
      expect(health.ok).toBe(false);
      expect(health.problems.map((p: Body) => p.code)).toContain("STALE_DISPATCHING");

      // next reconciles before selecting.
      const res = await next(worker("other"));
      expect(res.body).toMatchObject({ claimed: false, reconciled: 1 });
      const after = await task(t.id);
      expect(after).toMatchObject({ status: "waiting", blocked: true, claimed_by: null, claimed_at: null });
      expect(after.blocked_reason).toMatch(/stale dispatch/);
      const context = (await api.rest("GET", `/tasks/${t.id}/context`)).body;
      expect(context.at(-1)).toMatchObject({ kind: "blocker", source: "system" });
      const audit = await sqlRows(api, `select action from audit_log where target_id = '${t.id}' and action = 'dispatch.reconciled_stale'`);
      expect(audit).toHaveLength(1);
      let alerts = (await api.rest("GET", "/alerts?status=all")).body.filter((a: Body) => a.task_id === t.id);
      expect(alerts).toEqual([expect.objectContaining({ kind: "dispatch_stale", status: "open", occurrences: 1 })]);

      // Resolved, re-dispatched, stale again: the same alert reopens with two occurrences.
      await api.rest("POST", `/alerts/${alerts[0].id}/resolve`);
      await api.rest("PATCH", `/tasks/${t.id}`, { blocked: false });
      await api.rest("POST", `/tasks/${t.id}/dispatch`);
      await next(worker("stale"));
      await sqlRows(api, `update tasks set claimed_at = now() - interval '25 minutes' where id = ${t.id}`);
      const manual = await api.rest("POST", "/dispatch/reconcile-stale", { minutes: 20 });
      expect(manual.body).toEqual({ stale_minutes: 20, reconciled: 1, task_ids: [t.id] });
      alerts = (await api.rest("GET", "/alerts?status=all")).body.filter((a: Body) => a.task_id === t.id);
      expect(alerts).toEqual([expect.objectContaining({ kind: "dispatch_stale", status: "open", occurrences: 2 })]);
    });

    it("recovers a lost worker's tasks without waiting the stale minutes", async () => {
      const t = await queued();
      await heartbeat(worker("lost"));
      const claim = (await next(worker("lost"))).body;
      await started(t.id, worker("lost"), claim.attempt);
      expect((await next(worker("alive"))).body.reconciled).toBe(0);
      await sqlRows(api, `update worker_heartbeats set last_seen_at = now() - interval '5 minutes' where worker_id = '${worker("lost")}'`);
      const res = await api.rest("POST", "/dispatch/reconcile-stale", {});
      expect(res.body.task_ids).toEqual([t.id]);
      const after = await task(t.id);
      expect(after).toMatchObject({ status: "waiting", blocked: true, claimed_by: null });
      expect(after.blocked_reason).toContain(`worker ${worker("lost")} lost`);
    });

    it("recovers a claim whose answer never reached a live worker", async () => {
      const t = await queued();
      await heartbeat(worker("deaf"));
      await next(worker("deaf"));
      // The worker keeps heartbeating but never lists the task: it never got the answer.
      await sqlRows(api, `update tasks set claimed_at = now() - interval '3 minutes' where id = ${t.id}`);
      await heartbeat(worker("deaf"), ["codex"], { running_task_ids: [] });
      const res = await api.rest("POST", "/dispatch/reconcile-stale", {});
      expect(res.body.task_ids).toEqual([t.id]);
      expect((await task(t.id)).blocked_reason).toContain(`claim lost: worker ${worker("deaf")} is alive`);
      // A task the worker does list is left alone.
      const kept = await queued();
      await next(worker("deaf"));
      await sqlRows(api, `update tasks set claimed_at = now() - interval '3 minutes' where id = ${kept.id}`);
      await heartbeat(worker("deaf"), ["codex"], { running_task_ids: [kept.id] });
      expect((await api.rest("POST", "/dispatch/reconcile-stale", {})).body.task_ids).toEqual([]);
    });

    it("raises a recurring-failure alert and one triage task when a task keeps failing", async () => {
      const t = await queued();
      for (let i = 0; i < 3; i++) {
        const claim = (await next(worker("flaky"))).body;
        expect(claim.task.id).toBe(t.id);
        await api.rest("POST", `/dispatch/tasks/${t.id}/failed`, { worker_id: worker("flaky"), attempt: claim.attempt, reason: `boom ${i}` });
        await api.rest("PATCH", `/tasks/${t.id}`, { blocked: false });
        await api.rest("POST", `/tasks/${t.id}/dispatch`);
      }
      const alerts = (await api.rest("GET", "/alerts")).body.filter((a: Body) => a.task_id === t.id);
      expect(alerts).toContainEqual(expect.objectContaining({ kind: "recurring_failure", status: "open" }));
      expect(alerts).toContainEqual(expect.objectContaining({ kind: "dispatch_failed", occurrences: 3 }));
      const triage = await sqlRows(api, `select id from tasks where title like 'Triage: task #${t.id} %'`);
      expect(triage).toHaveLength(1);
    });
  });

  describe("concurrency caps", () => {
    it("respects the global cap", async () => {
      await api.rest("PUT", "/settings/dispatch_max_concurrent", { value: "1" });
      await queued();
      await queued();
      expect((await next(worker("cap"))).body.claimed).toBe(true);
      expect((await next(worker("cap"))).body).toMatchObject({ claimed: false, reason: "capacity" });
    });

    it("respects per-agent caps while other agents still flow", async () => {
      await api.rest("PUT", "/settings/dispatch_agent_caps", { value: '{"codex":1}' });
      await queued();
      await queued();
      const h = await queued({ agent_slug: "hermes" });
      expect((await next(worker("cap2"), ["codex"])).body.claimed).toBe(true);
      expect((await next(worker("cap2"), ["codex"])).body).toMatchObject({ claimed: false, reason: "capacity" });
      expect((await next(worker("cap2"), ["codex", "hermes"])).body.task.id).toBe(h.id);
      const bad = await api.rest("PUT", "/settings/dispatch_agent_caps", { value: "[1]" });
      expect(bad.status).toBe(400);
    });
  });

  describe("AI done guard (runbook 3.2)", () => {
    async function inReview(): Promise<Body> {
      const t = await queued({ agent_slug: "opencode" });
      const claim = (await next(worker("guard"), ["opencode"])).body;
      await started(t.id, worker("guard"), claim.attempt);
      await api.rest("POST", `/dispatch/tasks/${t.id}/finished`, { worker_id: worker("guard"), attempt: claim.attempt, exit_code: 0, duration_ms: 5 });
      return t;
    }
    const toDone = (id: number, via: "status" | "patch", query = "") =>
      via === "status"
        ? api.rest("PATCH", `/tasks/${id}/status${query}`, { status: "done" })
        : api.rest("PATCH", `/tasks/${id}${query}`, { status: "done" });

    it.each(["status", "patch"] as const)("refuses done without evidence via %s (checkpoint and ai-dispatch-log do not count)", async (via) => {
      const t = await inReview();
      // The task has a launcher checkpoint and an ai-dispatch-log comment only.
      const res = await toDone(t.id, via);
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("DONE_GUARD");
      expect((await task(t.id)).status).toBe("review");
    });

    it("does not count system or launcher blockers as evidence", async () => {
      const t = await newTask({ sensitive: true, agent_slug: "hermes" });
      await api.rest("POST", `/tasks/${t.id}/dispatch`); // writes a system blocker
      expect((await toDone(t.id, "status")).body.error.code).toBe("DONE_GUARD");
    });

    it.each([
      ["a deliverable context entry", (id: number) => api.rest("POST", `/tasks/${id}/context`, { kind: "deliverable", body: "PR #12" })],
      ["a human note", async (id: number) => api.restAs(await api.login())("POST", `/tasks/${id}/context`, { kind: "note", body: "checked" })],
      ["a user comment", (id: number) => api.rest("POST", `/tasks/${id}/comments`, { body: "see PR #12" })],
    ])("accepts done with %s", async (_label, addEvidence) => {
      const t = await inReview();
      await addEvidence(t.id);
      const res = await toDone(t.id, "patch");
      expect(res.status).toBe(200);
      expect(res.body.status).toBe("done");
    });

    it("refuses PATCH /tasks/:id with fields and a guarded done as a whole: the fields stay as they were", async () => {
      const t = await newTask();
      const res = await api.rest("PATCH", `/tasks/${t.id}`, { title: "x", status: "done" });
      expect(res.status).toBe(409);
      expect(res.body.error.code).toBe("DONE_GUARD");
      expect(await task(t.id)).toEqual(t);
    });

    it("does not guard tasks without an agent", async () => {
      const t = (await api.rest("POST", "/tasks", { title: "human chore" })).body;
      expect((await toDone(t.id, "status")).body.status).toBe("done");
    });

    it("lets admins and the service force it, audited; members may not", async () => {
      const t = await inReview();
      const member = await createUser(api, `member-force-${kind}`, "member");
      const denied = await api.restAs(member)("PATCH", `/tasks/${t.id}/status?force=true`, { status: "done" });
      expect(denied.status).toBe(403);
      const admin = await api.login();
      const forced = await api.restAs(admin)("PATCH", `/tasks/${t.id}/status?force=true`, { status: "done" });
      expect(forced.body.status).toBe("done");
      const audit = await sqlRows(api, `select actor from audit_log where action = 'task.done_forced' and target_id = '${t.id}'`);
      expect(audit).toEqual([{ actor: "user:admin" }]);
    });
  });

  describe("health and explanation", () => {
    it("reports the runbook's fields and explains every problem", async () => {
      let health = (await api.rest("GET", "/dispatch/health")).body;
      expect(health).toMatchObject({ dispatch_enabled: true, worker_summary: { fresh: 0 }, queue: { stale_dispatching: 0 } });
      expect(health.problems.map((p: Body) => p.code)).toContain("NO_FRESH_WORKER");
      await heartbeat(worker("h1"), ["codex", "opencode"], { models: ["gpt-*"] });
      health = (await api.rest("GET", "/dispatch/health")).body;
      expect(health.worker_summary.fresh).toBe(1);
      expect(health.workers[0]).toMatchObject({ worker_id: worker("h1"), agent_slugs: ["codex", "opencode"], fresh: true });
      const uncovered = health.problems.find((p: Body) => p.code === "AGENT_NOT_COVERED");
      expect(uncovered.message).toContain("hermes");
    });

    it("says why a queued task is not being dispatched", async () => {
      const t = await queued({ agent_slug: "hermes", model: "qwen3.6" });
      await api.rest("PUT", "/settings/dispatch_enabled", { value: "false" });
      let why = (await api.rest("GET", `/tasks/${t.id}/dispatch-explanation`)).body;
      expect(why.dispatchable_now).toBe(false);
      expect(why.reasons.map((r: Body) => r.code)).toEqual(["DISPATCH_DISABLED", "NO_WORKER_FOR_AGENT"]);
      await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
      await heartbeat(worker("x1"), ["hermes"], { models: ["gpt-*"] });
      why = (await api.rest("GET", `/tasks/${t.id}/dispatch-explanation`)).body;
      expect(why.reasons.map((r: Body) => r.code)).toEqual(["NO_WORKER_FOR_MODEL"]);
      await heartbeat(worker("x2"), ["hermes"], { models: ["qwen*"] });
      why = (await api.rest("GET", `/tasks/${t.id}/dispatch-explanation`)).body;
      expect(why).toMatchObject({ dispatchable_now: true, reasons: [] });
    });
  });
});

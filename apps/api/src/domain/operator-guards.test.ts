import { describe, expect, it } from "vitest";
import { useInProcessApi } from "../../test/in-process.ts";

// Controls that protect the operator from a plausible slip: a cap for an
// agent that does not exist, deleting an agent tasks still use, a failure
// alert left open after the task's next run went fine.

const api = useInProcessApi(async (service) => {
  await service.settings.put({ key: "dispatch_enabled", value: "true" });
});

async function errorOf(call: Promise<unknown>) {
  try {
    await call;
  } catch (error) {
    const cause = (error as { cause?: { code?: string; field?: string; params?: unknown; message?: string } }).cause;
    return { code: cause?.code, field: cause?.field, params: cause?.params, message: cause?.message };
  }
  throw new Error("expected the call to be refused");
}

describe("dispatch_agent_caps", () => {
  it("refuses a slug no agent has, naming it, and keeps the old value", async () => {
    await api.service.settings.put({ key: "dispatch_agent_caps", value: '{"codex":2}' });
    const refused = await errorOf(api.service.settings.put({ key: "dispatch_agent_caps", value: '{"codex":1,"nope":2}' }));
    expect(refused).toMatchObject({ code: "VALIDATION", field: "value", params: { reason: "setting_unknown_agents", agents: ["nope"] } });
    expect(refused.message).toContain("nope");
    expect((await api.service.settings.get({ key: "dispatch_agent_caps" })).value).toBe('{"codex":2}');
    await api.service.settings.put({ key: "dispatch_agent_caps", value: "{}" });
  });

  it("says which rule a malformed value breaks", async () => {
    const refused = await errorOf(api.service.settings.put({ key: "dispatch_stale_minutes", value: "0" }));
    expect(refused).toMatchObject({ code: "VALIDATION", params: { reason: "setting_int_range", key: "dispatch_stale_minutes", min: 1, max: 10080 } });
  });
});

describe("deleting an agent", () => {
  it("is refused with AGENT_IN_USE while an open task uses it, and allowed once those are archived", async () => {
    const agent = await api.service.agents.create({ slug: "tmp-agent", name: "Tmp" });
    const task = await api.service.tasks.create({ title: "uses tmp-agent", agent_slug: "tmp-agent" });
    const refused = await errorOf(api.service.agents.delete({ id: agent.id }));
    expect(refused).toMatchObject({ code: "AGENT_IN_USE", params: { agent: "tmp-agent", tasks: 1, live: 0 } });
    expect((await api.service.agents.list({})).map((a) => a.slug)).toContain("tmp-agent");

    await api.service.tasks.archive({ id: task.id });
    await api.service.agents.delete({ id: agent.id });
    expect((await api.service.tasks.get({ id: task.id })).agent_id).toBeNull();
  });
});

describe("a failure alert", () => {
  it("is resolved, audited, when the task's next run succeeds", async () => {
    const task = await api.service.tasks.create({ title: "fails then works", execution: "interactive", agent_slug: "opencode" });
    const run = async () => {
      await api.service.tasks.dispatch({ id: task.id });
      const claim = await api.service.dispatch.next({ worker_id: "w-alerts", agent_slugs: ["opencode"] });
      if (!claim.claimed) throw new Error("expected a claim");
      return claim.attempt;
    };
    const first = await run();
    await api.service.dispatch.failed({ id: task.id, worker_id: "w-alerts", attempt: first, reason: "launcher process exited early (code=1, signal=null)" });
    const open = (await api.service.alerts.list({ status: "open" })).filter((a) => a.task_id === task.id);
    expect(open.map((a) => a.kind)).toEqual(["dispatch_failed"]);

    await api.service.tasks.update({ id: task.id, blocked: false });
    const second = await run();
    await api.service.dispatch.finished({ id: task.id, worker_id: "w-alerts", attempt: second, exit_code: 0, duration_ms: 1000 });
    expect((await api.service.alerts.list({ status: "open" })).filter((a) => a.task_id === task.id)).toEqual([]);
    const [resolved] = (await api.service.alerts.list({ status: "all" })).filter((a) => a.task_id === task.id);
    expect(resolved).toMatchObject({ status: "resolved", resolved_by: "system:run-succeeded" });
    const audit = await api.service.audit.list({ action: "alert.resolved_by_success" });
    expect(audit.map((e) => e.target_id)).toContain(String(resolved!.id));
  });

  it("about a task that keeps failing (recurring_failure) stays open for a person to triage", async () => {
    await api.service.settings.put({ key: "dispatch_failure_alert_threshold", value: "1" });
    const task = await api.service.tasks.create({ title: "keeps failing", execution: "interactive", agent_slug: "hermes" });
    const run = async () => {
      await api.service.tasks.dispatch({ id: task.id });
      const claim = await api.service.dispatch.next({ worker_id: "w-recurring", agent_slugs: ["hermes"] });
      if (!claim.claimed) throw new Error("expected a claim");
      return claim.attempt;
    };
    await api.service.dispatch.failed({ id: task.id, worker_id: "w-recurring", attempt: await run(), reason: "runtime no disponible en host: hermes" });
    await api.service.tasks.update({ id: task.id, blocked: false });
    await api.service.dispatch.finished({ id: task.id, worker_id: "w-recurring", attempt: await run(), exit_code: 0, duration_ms: 10 });
    const open = (await api.service.alerts.list({ status: "open" })).filter((a) => a.task_id === task.id);
    expect(open.map((a) => a.kind)).toEqual(["recurring_failure"]);
    await api.service.settings.put({ key: "dispatch_failure_alert_threshold", value: "3" });
  });
});

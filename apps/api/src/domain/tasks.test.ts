import { describe, expect, it } from "vitest";
import { AS, type Caller, opsCodeOf, useInProcessApi } from "../../test/in-process.ts";

// Task rules through the typed caller, in-process, on a fresh PostgreSQL
// database: the done guard, the Human Gate, and PATCH /tasks/:id as one
// transaction. test/dispatch.test.ts covers the same paths over REST.

const api = useInProcessApi();
let seq = 0;

const aiTask = (fields: Partial<Parameters<Caller["tasks"]["create"]>[0]> = {}) =>
  api.service.tasks.create({ title: `task ${++seq}`, execution: "interactive", agent_slug: "codex", ...fields });
const auditActions = async (id: number) =>
  (await api.service.audit.list({ limit: 500 })).filter((e) => e.target_id === String(id)).map((e) => e.action);

describe("PATCH /tasks/:id is one transaction", () => {
  it("a done refused by the done guard leaves the field edits unsaved", async () => {
    const task = await aiTask();
    expect(await opsCodeOf(api.service.tasks.update({ id: task.id, title: "x", priority: 9, status: "done" }))).toBe("DONE_GUARD");
    expect(await api.service.tasks.get({ id: task.id })).toEqual(task);
    expect(await auditActions(task.id)).toEqual(["task.created"]);
  });

  it("a queue move the queue refuses leaves the field edits unsaved", async () => {
    const task = await aiTask({ execution: "manual" });
    expect(await opsCodeOf(api.service.tasks.update({ id: task.id, title: "y", status: "queued" }))).toBe("NOT_INTERACTIVE");
    expect(await api.service.tasks.get({ id: task.id })).toEqual(task);
  });

  it("the queue's rules see the edited task: an edit that makes it dispatchable queues it in the same call", async () => {
    const task = await aiTask({ execution: "manual" });
    const queued = await api.service.tasks.update({ id: task.id, execution: "interactive", title: "ready", status: "queued" });
    expect(queued).toMatchObject({ status: "queued", execution: "interactive", title: "ready" });
  });

  it("a Human Gate refusal saves no field edit; only the gate's mark stays", async () => {
    const task = await aiTask({ sensitive: true });
    expect(await opsCodeOf(api.service.tasks.update({ id: task.id, title: "z", status: "queued" }))).toBe("HUMAN_GATE");
    const after = await api.service.tasks.get({ id: task.id });
    expect(after).toMatchObject({ title: task.title, status: "backlog", blocked: true });
    expect(after.blocked_reason).toMatch(/Human Gate/);
  });

  it("fields and an accepted status land together", async () => {
    const task = await api.service.tasks.create({ title: "human chore" });
    const done = await api.service.tasks.update({ id: task.id, title: "chore done", status: "done" });
    expect(done).toMatchObject({ title: "chore done", status: "done" });
    expect(await auditActions(task.id)).toEqual(["task.status_changed", "task.updated", "task.created"]);
  });
});

describe("AI done guard", () => {
  it("refuses done without evidence and accepts it after a user comment", async () => {
    const task = await aiTask();
    expect(await opsCodeOf(api.service.tasks.setStatus({ id: task.id, status: "done" }))).toBe("DONE_GUARD");
    await api.service.comments.add({ task_id: task.id, body: "see PR #12" });
    expect((await api.service.tasks.setStatus({ id: task.id, status: "done" })).status).toBe("done");
  });

  it("lets an admin force it, audited; a member may not", async () => {
    const task = await aiTask();
    expect(await opsCodeOf(api.as(AS.member).tasks.setStatus({ id: task.id, status: "done", force: true }))).toBe("FORBIDDEN");
    expect((await api.as(AS.admin).tasks.setStatus({ id: task.id, status: "done", force: true })).status).toBe("done");
    expect(await auditActions(task.id)).toContain("task.done_forced");
  });
});

describe("Human Gate", () => {
  it("holds a sensitive task once, however often dispatch is asked for", async () => {
    const task = await aiTask({ sensitive: true });
    expect(await opsCodeOf(api.service.tasks.dispatch({ id: task.id }))).toBe("HUMAN_GATE");
    expect(await opsCodeOf(api.service.tasks.dispatch({ id: task.id }))).toBe("HUMAN_GATE");
    const blockers = (await api.service.context.list({ task_id: task.id })).filter((c) => c.kind === "blocker");
    expect(blockers).toHaveLength(1);
    expect(await auditActions(task.id)).toEqual(["dispatch.human_gate_held", "task.created"]);
  });

  it("is released by an admin's approval only, then the task queues", async () => {
    const task = await aiTask({ sensitive: true });
    await opsCodeOf(api.service.tasks.dispatch({ id: task.id }));
    expect(await opsCodeOf(api.as(AS.member).tasks.approve({ id: task.id }))).toBe("FORBIDDEN");
    expect(await api.as(AS.admin).tasks.approve({ id: task.id })).toMatchObject({ blocked: false, approved_by: "user:admin" });
    expect((await api.service.tasks.dispatch({ id: task.id })).status).toBe("queued");
  });
});

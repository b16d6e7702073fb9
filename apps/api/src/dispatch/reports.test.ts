import { describe, expect, it } from "vitest";
import { opsCodeOf, useInProcessApi } from "../../test/in-process.ts";

// Launcher reports, fenced by the claim: the three reports refuse the same
// way a claim the worker no longer holds, and change nothing when they do.

const api = useInProcessApi(async (service) => {
  await service.settings.put({ key: "dispatch_enabled", value: "true" });
});
let seq = 0;

async function claimed(worker: string) {
  const task = await api.service.tasks.create({ title: `task ${++seq}`, execution: "interactive", agent_slug: "hermes" });
  await api.service.tasks.dispatch({ id: task.id });
  const claim = await api.service.dispatch.next({ worker_id: worker, agent_slugs: ["hermes"] });
  if (!claim.claimed || claim.task.id !== task.id) throw new Error(`expected to claim task ${task.id}`);
  return { id: task.id, attempt: claim.attempt };
}

const reports = {
  started: (id: number, worker_id: string, attempt: number) =>
    api.service.dispatch.started({ id, worker_id, attempt, pid: 7, command: ["hermes"], log_path: "/tmp/h.log", err_log_path: "/tmp/h.err.log" }),
  failed: (id: number, worker_id: string, attempt: number) =>
    api.service.dispatch.failed({ id, worker_id, attempt, reason: "launcher process exited early (code=1, signal=null)" }),
  finished: (id: number, worker_id: string, attempt: number) =>
    api.service.dispatch.finished({ id, worker_id, attempt, exit_code: 0, duration_ms: 1000 }),
};

/** Everything a report could have written about the task. */
async function footprint(id: number) {
  return {
    task: await api.service.tasks.get({ id }),
    context: await api.service.context.list({ task_id: id }),
    comments: await api.service.comments.list({ task_id: id }),
    timeLogs: await api.service.timeLogs.list({ task_id: id }),
    alerts: (await api.service.alerts.list({ status: "all" })).filter((a) => a.task_id === id),
  };
}

describe.each(Object.keys(reports) as (keyof typeof reports)[])("the %s report", (name) => {
  const report = reports[name];

  it("is refused with STALE_CLAIM from another worker or an older attempt, changing nothing", async () => {
    const { id, attempt } = await claimed(`w-${name}`);
    const before = await footprint(id);
    expect(await opsCodeOf(report(id, `w-intruder`, attempt))).toBe("STALE_CLAIM");
    expect(await opsCodeOf(report(id, `w-${name}`, attempt + 1))).toBe("STALE_CLAIM");
    expect(await footprint(id)).toEqual(before);
  });

  it("is refused once the claim has ended (the task is waiting), changing nothing", async () => {
    const { id, attempt } = await claimed(`w-${name}-late`);
    await reports.failed(id, `w-${name}-late`, attempt);
    const before = await footprint(id);
    expect(await opsCodeOf(report(id, `w-${name}-late`, attempt))).toBe("STALE_CLAIM");
    expect(await footprint(id)).toEqual(before);
  });

  it("answers NOT_FOUND for a task that does not exist", async () => {
    expect(await opsCodeOf(report(999_999, "w-any", 1))).toBe("NOT_FOUND");
  });
});

describe("the fence's statuses", () => {
  it("started only from dispatching; failed and finished from dispatching or doing", async () => {
    const a = await claimed("w-a");
    expect((await reports.started(a.id, "w-a", a.attempt)).status).toBe("doing");
    expect(await opsCodeOf(reports.started(a.id, "w-a", a.attempt))).toBe("STALE_CLAIM");
    expect((await reports.finished(a.id, "w-a", a.attempt)).status).toBe("review");
    const b = await claimed("w-b");
    expect((await reports.failed(b.id, "w-b", b.attempt))).toMatchObject({ status: "waiting", blocked: true, claimed_by: null });
  });
});

import { queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { beforeEach, describe, expect, it } from "vitest";
import { useInProcessApi } from "../../test/in-process.ts";
import { claimNextTask } from "./claim.ts";

// The claim only claims; dispatch/next reconciles stale work before it
// selects (runbook 3.1), and claims under caps after that.

const api = useInProcessApi();
let seq = 0;

beforeEach(async () => {
  await exec("update tasks set status = 'done', claimed_by = null where status in ('queued', 'dispatching', 'doing')");
  for (const [key, value] of Object.entries({ dispatch_enabled: "true", dispatch_max_concurrent: "0" })) {
    await api.service.settings.put({ key, value });
  }
});

const exec = (text: string) => queryRows(api.db, sql.raw(text));

async function queued(): Promise<number> {
  const task = await api.service.tasks.create({ title: `task ${++seq}`, execution: "interactive", agent_slug: "codex" });
  return (await api.service.tasks.dispatch({ id: task.id })).id;
}
/** A task a silent worker claimed 25 minutes ago: stale by the minutes and by the worker. */
async function staleClaim(): Promise<number> {
  const id = await queued();
  await exec(`update tasks set status = 'dispatching', claimed_by = 'w-gone', claim_attempt = 1,
              claimed_at = now() - interval '25 minutes' where id = ${id}`);
  return id;
}
const request = (workerId: string) => ({ workerId, agentSlugs: ["codex"], models: [], pool: null });

describe("the claim", () => {
  it("claims and flags stale work, reconciling nothing itself", async () => {
    const stale = await staleClaim();
    const next = await queued();
    const attempt = await claimNextTask(api.db, request("w-1"), { freshWorkerOnly: false });
    expect(attempt).toMatchObject({ enabled: true, capped: false, staleWork: true, claimed: { task: { id: next } } });
    expect((await api.service.tasks.get({ id: stale })).status).toBe("dispatching");
  });

  it("claims nothing while dispatch is off, and says so", async () => {
    await queued();
    await api.service.settings.put({ key: "dispatch_enabled", value: "false" });
    const attempt = await claimNextTask(api.db, request("w-1"), { freshWorkerOnly: false });
    expect(attempt).toMatchObject({ enabled: false, claimed: undefined });
  });
});

describe("dispatch/next", () => {
  it("reconciles stale work before selecting, and answers how much", async () => {
    const stale = await staleClaim();
    expect(await api.service.dispatch.next({ worker_id: "w-1", agent_slugs: ["codex"] })).toEqual({ claimed: false, reason: "empty", reconciled: 1 });
    expect(await api.service.tasks.get({ id: stale })).toMatchObject({ status: "waiting", blocked: true, claimed_by: null });
  });

  it("claims under a cap the reconciled task held", async () => {
    await api.service.settings.put({ key: "dispatch_max_concurrent", value: "1" });
    await staleClaim();
    const next = await queued();
    expect(await api.service.dispatch.next({ worker_id: "w-1", agent_slugs: ["codex"] })).toMatchObject({ claimed: true, task: { id: next } });
  });
});

import { queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AS, useInProcessApi } from "../../test/in-process.ts";
import type { Principal } from "../auth/principal.ts";

// "Reconciliar stale" shows what it will take back before it does: the
// preview reads the watchdog's own criteria and changes nothing, and a pass
// limited to the previewed ids moves exactly those.

const api = useInProcessApi();
const exec = (text: string) => queryRows(api.db, sql.raw(text));

async function claimedBy(worker: string, ago: string, workspace = 1): Promise<number> {
  const task = await api.service.tasks.create({ workspace_id: workspace, title: `held by ${worker}`, execution: "interactive", agent_slug: "codex" });
  await exec(`update tasks set status = 'dispatching', claimed_by = '${worker}', claim_attempt = 1,
              claimed_at = now() - interval '${ago}' where id = ${task.id}`);
  return task.id;
}

describe("the manual watchdog's preview", () => {
  it("lists what the pass would take back, flags live workers, and changes nothing; the confirmed ids are what moves", async () => {
    const live = await claimedBy("w-live", "3 minutes");
    const old = await claimedBy("w-live", "30 minutes");
    await api.service.dispatch.heartbeat({ worker_id: "w-live", hostname: "h", pid: 1, version: "t", agent_slugs: ["codex"], running_task_ids: [live, old], free_slots: 1 });

    const atThreshold = await api.service.dispatch.reconcilePreview({});
    expect(atThreshold.stale_minutes).toBe(20);
    expect(atThreshold.tasks.map((t) => t.task_id)).toEqual([old]);

    const atOne = await api.service.dispatch.reconcilePreview({ minutes: 1 });
    expect(atOne.tasks.map((t) => [t.task_id, t.reason, t.worker_fresh])).toEqual([
      [old, "stale_dispatch", true],
      [live, "stale_dispatch", true],
    ]);
    expect((await api.service.tasks.get({ id: live })).status).toBe("dispatching");

    // A task that went stale after the preview is not moved by the confirmation.
    const later = await claimedBy("w-live", "45 minutes");
    const pass = await api.service.dispatch.reconcileStale({ minutes: 1, task_ids: atOne.tasks.map((t) => t.task_id) });
    expect(pass.task_ids.sort()).toEqual([live, old].sort());
    expect((await api.service.tasks.get({ id: later })).status).toBe("dispatching");
    await api.service.dispatch.reconcileStale({ task_ids: [later], minutes: 0 });
  });

  it("shows a workspace admin only its workspaces' tasks", async () => {
    await exec("insert into workspaces (id, name) values (2, 'Other') on conflict do nothing");
    await exec("insert into agents (workspace_id, slug, name) values (2, 'codex', 'Codex') on conflict do nothing");
    const mine = await claimedBy("w-gone", "40 minutes");
    const theirs = await claimedBy("w-gone", "40 minutes", 2);
    const admin1: Principal = { kind: "user", userId: 9, username: "ws1", isInstanceAdmin: false, roles: new Map([[1, "admin"]]), sessionIdHash: "" };
    const seen = (await api.as(admin1).dispatch.reconcilePreview({ minutes: 1 })).tasks.map((t) => t.task_id);
    expect(seen).toContain(mine);
    expect(seen).not.toContain(theirs);
    expect((await api.as(AS.service).dispatch.reconcilePreview({ minutes: 1 })).tasks.map((t) => t.task_id)).toContain(theirs);
  });
});

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sqlRows, startTestApi, type TestApi } from "./harness.ts";

// Row-lock races need real concurrent connections: PostgreSQL only (PGlite is single-connection).
describe("claim race on real PostgreSQL", () => {
  let api: TestApi;
  const TASKS = 2000;
  const WORKERS = 16;

  beforeAll(async () => {
    api = await startTestApi("postgres");
    await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
  });
  afterAll(async () => api?.close());

  it(`${WORKERS} concurrent workers drain ${TASKS} queued tasks: each claimed exactly once, none lost`, async () => {
    await sqlRows(
      api,
      `insert into tasks (workspace_id, title, execution, agent_id, status, queued_at, priority)
       select 1, 'race ' || g, 'interactive', (select id from agents where slug = 'codex'), 'queued', now() - (g || ' ms')::interval, g % 3
       from generate_series(1, ${TASKS}) g`,
    );
    const claimedBy = new Map<number, string>();
    const duplicates: number[] = [];
    async function drain(workerId: string) {
      for (;;) {
        const res = await api.rest("POST", "/dispatch/next", { worker_id: workerId, agent_slugs: ["codex"] });
        expect(res.status).toBe(200);
        if (!res.body.claimed) return;
        const id = res.body.task.id as number;
        if (claimedBy.has(id)) duplicates.push(id);
        claimedBy.set(id, workerId);
      }
    }
    await Promise.all(Array.from({ length: WORKERS }, (_, i) => drain(`race-${i}`)));

    expect(duplicates).toEqual([]);
    expect(claimedBy.size).toBe(TASKS);
    const rows = await sqlRows<{ status: string; attempts: number; n: number }>(
      api,
      "select status, claim_attempt as attempts, count(*)::int as n from tasks where title like 'race %' group by 1, 2",
    );
    expect(rows).toEqual([{ status: "dispatching", attempts: 1, n: TASKS }]);
    // The database agrees with the workers about who holds each task.
    const holders = await sqlRows<{ id: number; claimed_by: string }>(api, "select id, claimed_by from tasks where title like 'race %'");
    for (const h of holders) expect(claimedBy.get(h.id)).toBe(h.claimed_by);
    // Every worker took part: the claim is not serialised onto one connection.
    expect(new Set(claimedBy.values()).size).toBe(WORKERS);
  });

  it("concurrent watchdog passes reconcile each stale task once", async () => {
    await sqlRows(api, "update tasks set claimed_at = now() - interval '1 hour' where title like 'race %' and id % 10 = 0");
    const stale = (await sqlRows<{ n: number }>(api, "select count(*)::int as n from tasks where title like 'race %' and id % 10 = 0"))[0]!.n;
    const passes = await Promise.all(
      Array.from({ length: 6 }, () => api.rest("POST", "/dispatch/reconcile-stale", { minutes: 20 })),
    );
    const reconciled = passes.flatMap((p) => p.body.task_ids as number[]);
    expect(reconciled.length).toBe(stale);
    expect(new Set(reconciled).size).toBe(stale);
    const audits = await sqlRows<{ n: number }>(api, "select count(*)::int as n from audit_log where action = 'dispatch.reconciled_stale'");
    expect(audits[0]!.n).toBe(stale);
    const alerts = await sqlRows<{ n: number; occ: number }>(
      api,
      "select count(*)::int as n, max(occurrences)::int as occ from system_alerts where kind = 'dispatch_stale'",
    );
    expect(alerts[0]).toEqual({ n: stale, occ: 1 });
  });
});

import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { sqlRows, startTestApi, type TestApi } from "./harness.ts";

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are checked field by field
type Body = any;

// Issue 12: health and the Workers table at fleet size. The counts and the
// problems stay exact over every worker, while the list comes a page at a
// time (GET /dispatch/workers) and problems name a few workers, then count.

let api: TestApi;

const pad = (i: number) => String(i).padStart(4, "0");

/**
 * `n` heartbeat rows in one statement: every third one stale (seen 10 minutes
 * ago), odd ones run codex, even ones opencode, all on the service token.
 */
async function fleet(n: number) {
  await sqlRows(
    api,
    `insert into worker_heartbeats (worker_id, hostname, pid, version, agent_slugs, models, running_task_ids, free_slots, last_seen_at, credential_kind)
     select 'vm-' || lpad(i::text, 4, '0'), 'host-' || i, i, 't',
            case when i % 2 = 1 then array['codex'] else array['opencode'] end, '{}', '{}', 1,
            case when i % 3 = 0 then now() - interval '10 minutes' else now() end, 'service'
     from generate_series(1, ${n}) i`,
  );
}

beforeAll(async () => {
  api = await startTestApi("postgres");
  await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
});
afterAll(async () => api?.close());
beforeEach(async () => {
  await sqlRows(api, "delete from worker_heartbeats");
});

describe("health at fleet size", () => {
  it("keeps the runbook's fields, counts every worker exactly, and lists the first page only", async () => {
    await fleet(120);
    const res = await api.rest("GET", "/dispatch/health");
    expect(res.status).toBe(200);
    const health: Body = res.body;
    // 40 of 120 are stale (every third).
    expect(health).toMatchObject({ dispatch_enabled: true, worker_summary: { total: 120, fresh: 80, stale: 40 }, queue: { stale_dispatching: 0 } });
    expect(typeof health.ok).toBe("boolean");
    expect(health.workers).toHaveLength(50);
    expect(health.workers[0].worker_id).toBe("vm-0001");
    expect(health.workers[49].worker_id).toBe("vm-0050");
    expect(health.workers_total).toBe(120);
    expect(health.workers_next_cursor).toBe("vm-0050");
    // Fresh per worker agrees with the counts (same clock, same threshold).
    expect(health.workers.filter((w: Body) => !w.fresh).map((w: Body) => w.worker_id)).toEqual(
      health.workers.filter((_: Body, i: number) => (i + 1) % 3 === 0).map((w: Body) => w.worker_id),
    );
    // Per agent: the exact number of fresh workers and the first few ids.
    expect(health.agent_coverage).toEqual([
      { slug: "codex", fresh_workers: 40, workers: ["vm-0001", "vm-0005", "vm-0007", "vm-0011", "vm-0013"] },
      { slug: "opencode", fresh_workers: 40, workers: ["vm-0002", "vm-0004", "vm-0008", "vm-0010", "vm-0014"] },
    ]);
  });

  it("says how many launchers use the service token, names five and counts the rest", async () => {
    await fleet(120);
    const health: Body = (await api.rest("GET", "/dispatch/health")).body;
    const problem = health.problems.find((p: Body) => p.code === "WORKER_USES_SERVICE_TOKEN");
    expect(problem).toEqual({
      code: "WORKER_USES_SERVICE_TOKEN",
      message: "80 launchers use the service token (vm-0001, vm-0002, vm-0004, vm-0005, vm-0007, and 75 more); issue each a worker token",
      params: { workers: "vm-0001, vm-0002, vm-0004, vm-0005, vm-0007", count: 80, more: 75 },
      severity: "warning",
    });
    expect(health.problems.filter((p: Body) => p.code === "WORKER_USES_SERVICE_TOKEN")).toHaveLength(1);
  });

  it("lists as many workers as workers_limit asks, none with 0, and refuses more than 500", async () => {
    await fleet(12);
    const few: Body = (await api.rest("GET", "/dispatch/health?workers_limit=5")).body;
    expect(few.workers.map((w: Body) => w.worker_id)).toEqual(["vm-0001", "vm-0002", "vm-0003", "vm-0004", "vm-0005"]);
    expect(few.workers_next_cursor).toBe("vm-0005");
    const none: Body = (await api.rest("GET", "/dispatch/health?workers_limit=0")).body;
    expect(none.workers).toEqual([]);
    expect(none).toMatchObject({ workers_total: 12, workers_next_cursor: null, worker_summary: { total: 12, fresh: 8, stale: 4 } });
    const all: Body = (await api.rest("GET", "/dispatch/health")).body;
    expect(all.workers).toHaveLength(12);
    expect(all.workers_next_cursor).toBeNull();
    for (const bad of ["501", "-1", "1.5", "many"]) {
      const res = await api.rest("GET", `/dispatch/health?workers_limit=${bad}`);
      expect(res.status, bad).toBe(400);
      expect(res.body.error).toMatchObject({ code: "VALIDATION", field: "workers_limit" });
    }
  });
});

describe("GET /dispatch/workers", () => {
  it("pages through every worker once, in id order, with the exact total", async () => {
    await fleet(120);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: Body = await api.rest("GET", `/dispatch/workers?limit=50${cursor ? `&cursor=${cursor}` : ""}`);
      expect(res.status).toBe(200);
      expect(res.body.total).toBe(120);
      seen.push(...res.body.workers.map((w: Body) => w.worker_id));
      cursor = res.body.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 120 }, (_, i) => `vm-${pad(i + 1)}`));
  });

  it("filters the stale ones, by agent, and both", async () => {
    await fleet(120);
    const stale: Body = (await api.rest("GET", "/dispatch/workers?stale_only=true&limit=500")).body;
    expect(stale.total).toBe(40);
    expect(stale.workers.every((w: Body) => !w.fresh)).toBe(true);
    expect(stale.workers[0].worker_id).toBe("vm-0003");
    const codex: Body = (await api.rest("GET", "/dispatch/workers?agent=codex&limit=10")).body;
    expect(codex.total).toBe(60);
    expect(codex.workers).toHaveLength(10);
    expect(codex.workers.every((w: Body) => w.agent_slugs.includes("codex"))).toBe(true);
    expect(codex.next_cursor).toBe("vm-0019");
    const next: Body = (await api.rest("GET", `/dispatch/workers?agent=codex&limit=10&cursor=${codex.next_cursor}`)).body;
    expect(next.workers[0].worker_id).toBe("vm-0021");
    const both: Body = (await api.rest("GET", "/dispatch/workers?agent=codex&stale_only=true&limit=500")).body;
    // Odd multiples of 3 up to 120: 3, 9, …, 117.
    expect(both.total).toBe(20);
    expect(both.workers.map((w: Body) => w.worker_id)).toEqual(Array.from({ length: 20 }, (_, i) => `vm-${pad(6 * i + 3)}`));
    const nobody: Body = (await api.rest("GET", "/dispatch/workers?agent=hermes")).body;
    expect(nobody).toEqual({ workers: [], total: 0, next_cursor: null });
  });

  it("answers the typed client the same way", async () => {
    await fleet(7);
    const page = await api.trpc.dispatch.workers.query({ limit: 3, stale_only: false, agent: "codex" });
    expect(page.total).toBe(4);
    expect(page.workers.map((w) => w.worker_id)).toEqual(["vm-0001", "vm-0003", "vm-0005"]);
    expect(page.next_cursor).toBe("vm-0005");
  });

  it("refuses bad paging and filters with 400 naming the field", async () => {
    const cases: [string, string][] = [
      ["limit=0", "limit"],
      ["limit=501", "limit"],
      ["limit=ten", "limit"],
      ["cursor=vm%20one", "cursor"],
      [`cursor=${"x".repeat(201)}`, "cursor"],
      ["stale_only=maybe", "stale_only"],
      ["agent=Not%20A%20Slug", "agent"],
    ];
    for (const [query, field] of cases) {
      const res = await api.rest("GET", `/dispatch/workers?${query}`);
      expect(res.status, query).toBe(400);
      expect(res.body.error, query).toMatchObject({ code: "VALIDATION", field });
    }
  });

  it("is for signed-in callers: anonymous gets 401", async () => {
    expect((await api.restAs({})("GET", "/dispatch/workers")).status).toBe(401);
  });
});

describe("the dispatch explanation at fleet size", () => {
  async function queued(slug: string): Promise<number> {
    const created = await api.rest("POST", "/tasks", { workspace_id: 1, title: `fleet ${slug}`, execution: "interactive", agent_slug: slug });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    expect((await api.rest("POST", `/tasks/${created.body.id}/dispatch`)).status).toBe(200);
    return created.body.id;
  }
  afterAll(async () => {
    await sqlRows(api, "update tasks set status = 'done' where title like 'fleet %'");
  });

  it("names five workers where the runtime is not usable and counts the rest", async () => {
    const id = await queued("claudecode");
    await sqlRows(
      api,
      `insert into worker_heartbeats (worker_id, hostname, pid, version, agent_slugs, models, running_task_ids, free_slots, runtimes)
       select 'vm-' || lpad(i::text, 4, '0'), 'h', i, 't', array['codex'], '{}', '{}', 1,
              '[{"slug":"claudecode","state":"not_authenticated","reason":"no key","version":null}]'::jsonb
       from generate_series(1, 80) i`,
    );
    const reasons: Body[] = (await api.rest("GET", `/tasks/${id}/dispatch-explanation`)).body.reasons;
    const unusable = reasons.filter((r) => r.code === "RUNTIME_NOT_USABLE");
    expect(unusable.map((r) => r.params.worker)).toEqual(["vm-0001", "vm-0002", "vm-0003", "vm-0004", "vm-0005"]);
    expect(reasons.find((r) => r.code === "RUNTIME_NOT_USABLE_MORE")).toEqual({
      code: "RUNTIME_NOT_USABLE_MORE",
      message: "and 75 more worker(s) where claudecode is not usable",
      params: { slug: "claudecode", count: 75 },
    });
  });

  it("says every matching worker is busy with five names and the count of the rest", async () => {
    const id = await queued("codex");
    await sqlRows(
      api,
      `insert into worker_heartbeats (worker_id, hostname, pid, version, agent_slugs, models, running_task_ids, free_slots)
       select 'vm-' || lpad(i::text, 4, '0'), 'h', i, 't', array['codex'], '{}', '{}', 0 from generate_series(1, 30) i`,
    );
    const reasons: Body[] = (await api.rest("GET", `/tasks/${id}/dispatch-explanation`)).body.reasons;
    expect(reasons.find((r) => r.code === "NO_FREE_SLOT")).toEqual({
      code: "NO_FREE_SLOT",
      message: "every matching worker is busy (vm-0001, vm-0002, vm-0003, vm-0004, vm-0005, and 25 more)",
      params: { workers: ["vm-0001", "vm-0002", "vm-0003", "vm-0004", "vm-0005"], more: 25 },
    });
  });
});

import postgres from "postgres";
import { afterAll, describe, expect, it } from "vitest";
import { startFakeWorker } from "../support/fake-worker.ts";
import { createFreshDatabase, type FreshDatabase } from "../support/postgres.ts";
import { type PrivatePostgres, startPrivatePostgres } from "../support/private-postgres.ts";
import { restClient, type SpawnedApi, spawnApi } from "../support/spawn-api.ts";

// Real processes on real PostgreSQL: the API is killed, the database restarted.
// Each test prints its figures (faults, tasks in flight, lost, run twice).

const FAST_WATCHDOG = { OPS_WATCHDOG_INTERVAL_MS: "500" };

async function preload(url: string, n: number, label: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  await sql.unsafe(
    `insert into tasks (workspace_id, title, execution, agent_id, status, queued_at)
     select 1, '${label} ' || g, 'interactive', (select id from agents where slug = 'codex'), 'queued', now()
     from generate_series(1, ${n}) g`,
  );
  await sql.end();
}

async function outcome(url: string, label: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} });
  const rows = await sql.unsafe<Array<{ status: string; blocked: boolean; reason: string | null; attempts: number; n: number }>>(
    `select status, blocked, (blocked_reason is not null) as reason, claim_attempt as attempts, count(*)::int as n
     from tasks where title like '${label} %' group by 1, 2, 3, 4 order by 1`,
  );
  await sql.end();
  return rows;
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Every task settled: review, or waiting+blocked with a reason. Returns the tally. */
function settled(rows: Awaited<ReturnType<typeof outcome>>, total: number) {
  const count = (pred: (r: (typeof rows)[number]) => boolean) => rows.filter(pred).reduce((s, r) => s + r.n, 0);
  const review = count((r) => r.status === "review");
  const blocked = count((r) => r.status === "waiting" && r.blocked && Boolean(r.reason));
  return review + blocked === total ? { review, blocked } : undefined;
}

/** Task ids handed to more than one claim across all workers. */
function duplicates(logs: Array<{ claims: Array<{ taskId: number }> }>): number[] {
  const seen = new Set<number>();
  const dup: number[] = [];
  for (const log of logs) {
    for (const { taskId } of log.claims) {
      if (seen.has(taskId)) dup.push(taskId);
      seen.add(taskId);
    }
  }
  return dup;
}

describe("API faults", () => {
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it("SIGKILL of the API in the middle of a stream of claims: nothing claimed twice, nothing stuck", async () => {
    const db: FreshDatabase = await createFreshDatabase("ops_fault_kill");
    cleanups.push(() => db.drop());
    let api: SpawnedApi = await spawnApi({ databaseUrl: db.url, env: FAST_WATCHDOG });
    cleanups.push(() => api.stop("SIGKILL"));
    const rest = () => restClient(api.apiBase, { "x-ops-service-token": api.serviceToken });
    await rest()("PUT", "/settings/dispatch_enabled", { value: "true" });
    await rest()("PUT", "/settings/dispatch_worker_stale_seconds", { value: "10" });
    const TOTAL = 300;
    await preload(db.url, TOTAL, "kill");

    const workers = Array.from({ length: 4 }, (_, i) => startFakeWorker({ apiBase: () => api.apiBase, token: api.serviceToken, workerId: `kill-w${i}` }));
    await waitFor("100 claims", async () => (workers.reduce((s, w) => s + w.log.claims.length, 0) >= 100 ? true : undefined));
    const inFlight = (await outcome(db.url, "kill")).filter((r) => r.status === "dispatching" || r.status === "doing").reduce((s, r) => s + r.n, 0);
    await api.restart();
    const tally = await waitFor("every task settled", async () => settled(await outcome(db.url, "kill"), TOTAL));
    await Promise.all(workers.map((w) => w.stop()));

    const dup = duplicates(workers.map((w) => w.log));
    console.log(`[fault api-sigkill] faults=1 tasks=${TOTAL} in_flight_at_kill=${inFlight} review=${tally.review} recovered_blocked=${tally.blocked} lost=0 run_twice=${dup.length}`);
    expect(dup).toEqual([]);
    const rows = await outcome(db.url, "kill");
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(tally.review + tally.blocked).toBe(TOTAL);
  });

  it("PostgreSQL restart and killed backends under load: clear 503s, then the API reconnects by itself", async () => {
    const pg: PrivatePostgres = await startPrivatePostgres();
    cleanups.push(() => pg.destroy());
    const api = await spawnApi({ databaseUrl: pg.url, env: FAST_WATCHDOG });
    cleanups.push(() => api.stop("SIGKILL"));
    const rest = restClient(api.apiBase, { "x-ops-service-token": api.serviceToken });
    await rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    await rest("PUT", "/settings/dispatch_worker_stale_seconds", { value: "10" });
    const TOTAL = 200;
    await preload(pg.url, TOTAL, "pg");

    const workers = Array.from({ length: 3 }, (_, i) => startFakeWorker({ apiBase: () => api.apiBase, token: api.serviceToken, workerId: `pg-w${i}` }));
    await waitFor("50 claims", async () => (workers.reduce((s, w) => s + w.log.claims.length, 0) >= 50 ? true : undefined));

    // A worker token in use before the restart (cached by the API while its LISTEN is up).
    const issued = await rest("POST", "/workers/tokens", { worker_id: "pg-wt", workspace_ids: null });
    expect(issued.status).toBe(200);
    const asWorkerToken = restClient(api.apiBase, { "x-ops-worker-token": issued.body.token as string });
    expect((await asWorkerToken("GET", "/dispatch/credential")).status).toBe(200);

    pg.stop("fast");
    // While the database is down: answers are 503 UNAVAILABLE, promptly, never a hang or a crash.
    const during = await fetch(`${api.apiBase}/dispatch/health`, {
      headers: { "x-ops-service-token": api.serviceToken },
      signal: AbortSignal.timeout(20_000),
    });
    expect(during.status).toBe(503);
    expect(((await during.json()) as { error: { code: string } }).error.code).toBe("UNAVAILABLE");
    await new Promise((r) => setTimeout(r, 1500));
    pg.start();
    await waitFor("API answering again", async () => ((await rest("GET", "/dispatch/health")).status === 200 ? true : undefined));

    const killed = await pg.terminateBackends();
    expect(killed).toBeGreaterThan(0);
    await waitFor("API answering after pg_terminate_backend", async () => ((await rest("GET", "/dispatch/health")).status === 200 ? true : undefined));

    // The LISTEN connection came back too: a parked long-poll is woken by a queued task.
    const parked = fetch(`${api.apiBase}/dispatch/next`, {
      method: "POST",
      headers: { "x-ops-service-token": api.serviceToken, "content-type": "application/json" },
      body: JSON.stringify({ worker_id: "pg-listener", agent_slugs: ["hermes"], wait_ms: 15_000 }),
    }).then((r) => r.json() as Promise<{ claimed: boolean }>);
    await new Promise((r) => setTimeout(r, 300));
    const t = (await rest("POST", "/tasks", { title: "after restart", execution: "interactive", agent_slug: "hermes" })).body;
    await rest("POST", `/tasks/${t.id}/dispatch`);
    expect((await parked).claimed).toBe(true);

    // The worker-token cache's LISTEN came back too: the pre-restart token is accepted, and a
    // token is cached again — a revoke written behind the API's back, without NOTIFY, is not
    // seen (no credential read; only done while LISTEN is up). Retried with a fresh token
    // while the LISTEN is still coming back (bypassed then: the revoke is seen at once).
    expect((await asWorkerToken("GET", "/dispatch/credential")).status).toBe(200);
    const direct = postgres(pg.url, { max: 1, onnotice: () => {} });
    try {
      let n = 0;
      const cached = await waitFor(
        "a worker token cached again after the restart",
        async () => {
          const t = await rest("POST", "/workers/tokens", { worker_id: `pg-wt-${++n}`, workspace_ids: null });
          const as = restClient(api.apiBase, { "x-ops-worker-token": t.body.token as string });
          if ((await as("GET", "/dispatch/credential")).status !== 200) return undefined;
          await direct`update worker_credentials set revoked_at = now(), revoked_by = 'fault test' where id = ${t.body.credential.id as number}`;
          return (await as("GET", "/dispatch/credential")).status === 200 ? { as, id: t.body.credential.id as number } : undefined;
        },
        20_000,
      );
      // …and the NOTIFY a revoke sends drops it: refused long before the 30–60 s backstop.
      await direct`select pg_notify('ops_worker_credentials_changed', ${String(cached.id)})`;
      await waitFor("the revoke's NOTIFY honoured", async () => ((await cached.as("GET", "/dispatch/credential")).status === 401 ? true : undefined), 5000);
    } finally {
      await direct.end();
    }

    const tally = await waitFor("every task settled", async () => settled(await outcome(pg.url, "pg"), TOTAL));
    await Promise.all(workers.map((w) => w.stop()));
    const statuses = workers.flatMap((w) => w.log.statuses);
    const fiveHundreds = statuses.filter((s) => s >= 500);
    expect(fiveHundreds.every((s) => s === 503)).toBe(true);
    expect(api.process.exitCode).toBeNull();
    const dup = duplicates(workers.map((w) => w.log));
    expect(dup).toEqual([]);
    console.log(`[fault pg-restart] faults=2 (restart, ${killed} backends killed) tasks=${TOTAL} review=${tally.review} recovered_blocked=${tally.blocked} lost=0 run_twice=${dup.length} 503s=${fiveHundreds.length} other_5xx=0`);
  });

  it("two API instances on one PostgreSQL: no double claims, cross-instance wake-up, one reconcile per stale task", async () => {
    const db = await createFreshDatabase("ops_fault_scale");
    cleanups.push(() => db.drop());
    const a = await spawnApi({ databaseUrl: db.url });
    cleanups.push(() => a.stop("SIGKILL"));
    const b = await spawnApi({ databaseUrl: db.url });
    cleanups.push(() => b.stop("SIGKILL"));
    const restA = restClient(a.apiBase, { "x-ops-service-token": a.serviceToken });
    // Both instances were started with their own OPS_SERVICE_TOKEN; the last one wins, as after a rotation.
    await restClient(b.apiBase, { "x-ops-service-token": b.serviceToken })("PUT", "/settings/service_api_token", { value: a.serviceToken });
    const token = a.serviceToken;
    const restB = restClient(b.apiBase, { "x-ops-service-token": token });
    await waitFor("token accepted by both instances", async () =>
      (await restA("GET", "/settings")).status === 200 && (await restB("GET", "/settings")).status === 200 ? true : undefined,
    );
    await restA("PUT", "/settings/dispatch_enabled", { value: "true" });

    // A launcher parked on B is woken by a task queued through A.
    const parked = fetch(`${b.apiBase}/dispatch/next`, {
      method: "POST",
      headers: { "x-ops-service-token": token, "content-type": "application/json" },
      body: JSON.stringify({ worker_id: "scale-parked", agent_slugs: ["opencode"], wait_ms: 15_000 }),
    }).then((r) => r.json() as Promise<{ claimed: boolean; task: { id: number } }>);
    await new Promise((r) => setTimeout(r, 300));
    const t = (await restA("POST", "/tasks", { title: "cross", execution: "interactive", agent_slug: "opencode" })).body;
    const queuedAt = Date.now();
    await restA("POST", `/tasks/${t.id}/dispatch`);
    const woken = await parked;
    expect(woken).toMatchObject({ claimed: true, task: { id: t.id } });
    expect(Date.now() - queuedAt).toBeLessThan(15_000);

    // Launchers spread over both instances drain one queue without a double claim.
    const TOTAL = 400;
    await preload(db.url, TOTAL, "scale");
    const workers = Array.from({ length: 8 }, (_, i) =>
      startFakeWorker({ apiBase: () => (i % 2 ? b.apiBase : a.apiBase), token, workerId: `scale-w${i}` }),
    );
    const tally = await waitFor("drained", async () => settled(await outcome(db.url, "scale"), TOTAL));
    await Promise.all(workers.map((w) => w.stop()));
    const dup = duplicates(workers.map((w) => w.log));
    expect(dup).toEqual([]);
    expect(tally.review).toBe(TOTAL);

    // Watchdog passes racing on both instances reconcile each stale task once.
    const sql = postgres(db.url, { max: 1, onnotice: () => {} });
    await sql.unsafe(
      `update tasks set status = 'dispatching', claimed_by = 'ghost', claimed_at = now() - interval '2 hours' where id in (select id from tasks where title like 'scale %' order by id limit 25)`,
    );
    const passes = await Promise.all(
      Array.from({ length: 8 }, (_, i) => (i % 2 ? restB : restA)("POST", "/dispatch/reconcile-stale", { minutes: 20 })),
    );
    expect(passes.map((p) => p.status)).toEqual(passes.map(() => 200));
    const ids = passes.flatMap((p) => p.body.task_ids as number[]);
    const [audits] = await sql.unsafe<Array<{ n: number }>>("select count(*)::int as n from audit_log where action = 'dispatch.reconciled_stale'");
    const [alerts] = await sql.unsafe<Array<{ n: number; occ: number }>>("select count(*)::int as n, max(occurrences)::int as occ from system_alerts where kind = 'dispatch_stale'");
    await sql.end();
    expect(ids.length).toBe(25);
    expect(new Set(ids).size).toBe(25);
    expect(audits!.n).toBe(25);
    expect(alerts).toEqual({ n: 25, occ: 1 });
    console.log(`[fault scale-out] instances=2 workers=8 tasks=${TOTAL} run_twice=0 stale=25 reconciled_once=25`);
  });
});

import { type DispatchClient, heartbeatBody, restClient, trpcClient } from "./client.ts";
import type { DrainRow, PickupRow, Sizes } from "./types.ts";
import {
  createFreshDatabase,
  EXEC_LOG_DDL,
  type FreshDatabase,
  idleXactRate,
  log,
  now,
  pool,
  recordExecution,
  type Sql,
  sleep,
  spawnApi,
  type SpawnedApi,
  stats,
  Window,
} from "./util.ts";

export interface OurSystem {
  db: FreshDatabase;
  api: SpawnedApi;
  sql: Sql;
  rest: ReturnType<typeof restClient>;
  trpc: DispatchClient;
  agentId: number;
  stop(): Promise<void>;
}

/** A fresh database and the real API process on it, dispatch enabled. */
export async function startOurSystem(prefix: string, env: Record<string, string> = {}, poolMax = 16, preload?: string): Promise<OurSystem> {
  const db = await createFreshDatabase(prefix);
  const api = await spawnApi({ databaseUrl: db.url, env: { LOG_LEVEL: "warn", ...env }, preload });
  const sql = pool(db.url, poolMax);
  await sql.unsafe(EXEC_LOG_DDL);
  const rest = restClient(api.apiBase, api.serviceToken);
  await rest.call("PUT", "/settings/dispatch_enabled", { value: "true" });
  const [agent] = await sql`select id from agents where slug = 'opencode' and workspace_id = 1`;
  return {
    db,
    api,
    sql,
    rest,
    trpc: trpcClient(api.baseUrl, api.serviceToken),
    agentId: Number(agent!.id),
    async stop() {
      // SIGKILL: a graceful close would wait for parked long-polls (up to 30 s); the database is dropped anyway.
      await api.stop("SIGKILL").catch(() => {});
      await sql.end({ timeout: 2 }).catch(() => {});
      await db.drop();
    },
  };
}

/** Empties the queue and the execution log between runs. */
export async function resetTasks(sql: Sql) {
  await sql`truncate tasks, task_context, task_comments, time_logs, task_tokens, system_alerts, audit_log, bench_exec restart identity cascade`;
}

/** Preloads `n` queued interactive tasks for the opencode agent in one statement. */
export async function preloadQueued(sql: Sql, agentId: number, n: number, status: "queued" | "backlog" = "queued") {
  await sql`insert into tasks (workspace_id, title, status, execution, agent_id, queued_at, created_by)
            select 1, 'bench task ' || i, ${status}, 'interactive', ${agentId},
                   case when ${status} = 'queued' then now() + i * interval '1 microsecond' end, 'bench'
            from generate_series(1, ${n}) i`;
  await sql`analyze tasks`;
}

const WORKER_CMD = { pid: process.pid, command: ["bench-agent"], log_path: "/tmp/bench-agent.log", err_log_path: "/tmp/bench-agent.err.log" };

/**
 * One launcher-like worker: claim → started → the job's write → finished, the
 * full lifecycle per task through the API. Stops when the window is over or
 * the queue is empty.
 */
async function ourWorker(client: DispatchClient, sql: Sql, workerId: string, win: Window, out: { dup: number; drainedAt?: number; errors: number }) {
  while (!win.over) {
    const t0 = now();
    let r: any;
    try {
      r = await client.next({ worker_id: workerId, agent_slugs: ["opencode"], wait_ms: 0 });
    } catch (e) {
      out.errors++;
      if (out.errors < 5) log(`claim error ${workerId}: ${(e as Error).message}`);
      await sleep(10);
      continue;
    }
    win.claim(t0);
    if (!r.claimed) {
      out.drainedAt ??= now();
      return;
    }
    const id = Number(r.task.id);
    const attempt = Number(r.attempt);
    await client.started({ id, worker_id: workerId, attempt, ...WORKER_CMD });
    if (!(await recordExecution(sql, `task:${id}`, workerId))) out.dup++;
    await client.finished({ id, worker_id: workerId, attempt, exit_code: 0, duration_ms: 1 });
    win.done();
  }
}

export async function drainOurs(sys: OurSystem, via: "rest" | "trpc", workers: number, sizes: Sizes): Promise<DrainRow> {
  await resetTasks(sys.sql);
  await preloadQueued(sys.sql, sys.agentId, sizes.drainTasks);
  const client = via === "rest" ? sys.rest : sys.trpc;
  const ids = Array.from({ length: workers }, (_, i) => `bench-${via}-${workers}-${i}`);
  await Promise.all(ids.map((id) => client.heartbeat(heartbeatBody(id))));
  const win = new Window(sizes.warmupMs, sizes.measureMs);
  const out = { dup: 0, errors: 0 } as { dup: number; drainedAt?: number; errors: number };
  await Promise.all(ids.map((id) => ourWorker(client, sys.sql, id, win, out)));
  const [check] = await sys.sql`select (select count(*)::int from bench_exec) as executed,
                                       (select count(*)::int from tasks where status = 'review') as reviewed`;
  return {
    system: via === "rest" ? "ops (REST API)" : "ops (tRPC client)",
    variant: "claim→started→finished",
    workers,
    tasks_per_s: win.rate(out.drainedAt),
    completed_in_window: win.completions.length,
    claim_ms: stats(win.claimLatencies),
    duplicates: out.dup + Math.max(0, Number(check!.executed) - Number(check!.reviewed)),
    errors: out.errors,
  };
}

/**
 * The ceiling: the same claim CTE the API runs, then the doing and review
 * updates (claim-fenced), each its own commit, straight over `postgres` — no
 * HTTP, no validation, no context, comments, time logs or tokens.
 */
export async function drainRaw(sys: OurSystem, workers: number, sizes: Sizes): Promise<DrainRow> {
  await resetTasks(sys.sql);
  await preloadQueued(sys.sql, sys.agentId, sizes.drainTasks);
  const conn = pool(sys.db.url, Math.min(workers, 16));
  const win = new Window(sizes.warmupMs, sizes.measureMs);
  const out = { dup: 0, errors: 0 } as { dup: number; drainedAt?: number; errors: number };
  const worker = async (workerId: string) => {
    while (!win.over) {
      const t0 = now();
      const [row] = await conn`with candidate as (
          select t.id from tasks t join agents a on a.id = t.agent_id
          where t.status = 'queued' and t.archived_at is null and not t.blocked
            and (not t.sensitive or t.approved_at is not null)
            and a.active and a.slug in ('opencode') and true
          order by t.priority desc nulls last, t.queued_at, t.id
          limit 1
          for update of t skip locked)
        update tasks set status = 'dispatching', claimed_by = ${workerId}, claimed_at = now(),
               claim_attempt = tasks.claim_attempt + 1, cancel_requested_at = null, updated_at = now()
        from candidate where tasks.id = candidate.id
        returning tasks.id, tasks.claim_attempt`;
      win.claim(t0);
      if (!row) {
        out.drainedAt ??= now();
        return;
      }
      const id = Number(row.id);
      await conn`update tasks set status = 'doing', started_at = now(), updated_at = now()
                 where id = ${id} and claimed_by = ${workerId} and claim_attempt = ${row.claim_attempt} and status = 'dispatching'`;
      if (!(await recordExecution(conn, `task:${id}`, workerId))) out.dup++;
      await conn`update tasks set status = 'review', finished_at = now(), updated_at = now()
                 where id = ${id} and claimed_by = ${workerId} and claim_attempt = ${row.claim_attempt} and status = 'doing'`;
      win.done();
    }
  };
  await Promise.all(Array.from({ length: workers }, (_, i) => worker(`raw-${workers}-${i}`)));
  await conn.end({ timeout: 2 });
  return {
    system: "raw SQL ceiling",
    variant: "claim CTE→doing→review",
    workers,
    tasks_per_s: win.rate(out.drainedAt),
    completed_in_window: win.completions.length,
    claim_ms: stats(win.claimLatencies),
    duplicates: out.dup,
    errors: out.errors,
  };
}

/**
 * Idle workers long-polling `dispatch/next`; tasks queued one at a time through
 * `POST /api/tasks/:id/dispatch`; latency from just before that call to the
 * worker holding the claim. Then the database's transactions/s while idle.
 */
export async function pickupOurs(sys: OurSystem, sizes: Sizes, enqueueVia: "rest" | "sql" = "rest"): Promise<PickupRow> {
  await resetTasks(sys.sql);
  await preloadQueued(sys.sql, sys.agentId, sizes.pickupTasks, "backlog");
  const ids = (await sys.sql`select id from tasks order by id`).map((r) => Number(r.id));
  const client = sys.rest;
  const enqueuedAt = new Map<number, number>();
  const waiting = new Map<number, () => void>();
  const latencies: number[] = [];
  const enqueueMs: number[] = [];
  let stop = false;
  let dup = 0;
  const workerIds = Array.from({ length: sizes.pickupWorkers }, (_, i) => `bench-idle-${i}`);
  await Promise.all(workerIds.map((id) => client.heartbeat(heartbeatBody(id))));
  const worker = async (workerId: string) => {
    while (!stop) {
      const r = await client.next({ worker_id: workerId, agent_slugs: ["opencode"], wait_ms: 30_000 }).catch(() => ({ claimed: false }));
      if (!r.claimed) continue;
      const at = now();
      const id = Number(r.task.id);
      const t0 = enqueuedAt.get(id);
      if (t0 !== undefined) latencies.push(at - t0);
      await client.started({ id, worker_id: workerId, attempt: r.attempt, ...WORKER_CMD });
      if (!(await recordExecution(sys.sql, `task:${id}`, workerId))) dup++;
      await client.finished({ id, worker_id: workerId, attempt: r.attempt, exit_code: 0, duration_ms: 1 });
      waiting.get(id)?.();
    }
  };
  const running = workerIds.map((id) => worker(id));
  await sleep(300); // everyone parked
  for (const id of ids) {
    const done = new Promise<void>((r) => waiting.set(id, r));
    const t0 = now();
    enqueuedAt.set(id, t0);
    if (enqueueVia === "rest") await client.call("POST", `/tasks/${id}/dispatch`, {});
    else
      await sys.sql`with upd as (update tasks set status = 'queued', queued_at = now(), updated_at = now() where id = ${id} returning id)
                    select pg_notify('ops_dispatch_queued', 'opencode') from upd`;
    enqueueMs.push(now() - t0);
    await Promise.race([done, sleep(5000)]);
    await sleep(sizes.pickupGapMs);
  }
  log(`ops pickup (${enqueueVia}): ${latencies.length}/${ids.length} picked up`);
  const idle = enqueueVia === "rest" ? await idleXactRate(sys.sql, sys.db.name, sizes.idleMs) : Number.NaN;
  stop = true;
  // Parked long-polls end on their own (≤30 s); wake them with a last batch of work instead.
  await sys.sql`insert into tasks (workspace_id, title, status, execution, agent_id, queued_at)
                select 1, 'wake', 'queued', 'interactive', ${sys.agentId}, now() from generate_series(1, ${workerIds.length})`;
  await sys.sql`select pg_notify('ops_dispatch_queued', 'opencode')`;
  await Promise.race([Promise.all(running), sleep(3000)]);
  return {
    system: enqueueVia === "rest" ? "ops (REST long-poll)" : "ops (long-poll, SQL enqueue)",
    workers: sizes.pickupWorkers,
    jobs: ids.length,
    picked: latencies.length,
    latency_ms: stats(latencies),
    enqueue_call_ms: stats(enqueueMs),
    idle_xact_per_s: idle,
    duplicates: dup,
    note:
      enqueueVia === "rest"
        ? "enqueue = POST /api/tasks/:id/dispatch; latency from before that call to the claim answer"
        : "enqueue = one SQL statement (update to queued + pg_notify), like addJob; the claim side alone",
  };
}

import { Logger, makeWorkerUtils, run, type Runner, type WorkerUtils } from "graphile-worker";
import PgBoss from "pg-boss";
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
  stats as statsOf,
  Window,
} from "./util.ts";

// graphile-worker 0.17's localQueue logs errors while releasing on stop, and its
// pool complains when the bench drops the database: noise, not failures.
const SHUTDOWN_NOISE = /deactivat|local queue|release runner|terminating connection/i;
const quietLogger = new Logger(() => (level: string, message: string) => {
  if (level === "error" && !SHUTDOWN_NOISE.test(message)) log(`graphile-worker: ${message}`);
});

/* ------------------------------------------------------------------ graphile-worker */

export interface Graphile {
  db: FreshDatabase;
  sql: Sql;
  utils: WorkerUtils;
  stop(): Promise<void>;
}

export async function startGraphile(): Promise<Graphile> {
  const db = await createFreshDatabase("bench_graphile");
  const sql = pool(db.url, 16);
  await sql.unsafe(EXEC_LOG_DDL);
  const utils = await makeWorkerUtils({ connectionString: db.url, logger: quietLogger });
  await utils.migrate();
  return {
    db,
    sql,
    utils,
    async stop() {
      await utils.release();
      await sql.end({ timeout: 2 });
      await db.drop();
    },
  };
}

async function resetGraphile(g: Graphile) {
  await g.sql`truncate graphile_worker._private_jobs, graphile_worker._private_job_queues, bench_exec cascade`;
}

async function addGraphileJobs(g: Graphile, n: number) {
  for (let from = 1; from <= n; from += 5000) {
    const specs = Array.from({ length: Math.min(5000, n - from + 1) }, (_, i) => ({ identifier: "bench", payload: { k: from + i } }));
    await g.utils.addJobs(specs);
  }
  await g.sql`analyze graphile_worker._private_jobs`;
}

function graphileRunner(g: Graphile, workers: number, batched: boolean, handler: (k: number) => Promise<void>): Promise<Runner> {
  return run({
    connectionString: g.db.url,
    concurrency: workers,
    maxPoolSize: Math.min(workers + 2, 20),
    noHandleSignals: true,
    pollInterval: 2000,
    logger: quietLogger,
    taskList: { bench: async (payload) => handler(Number((payload as { k: number }).k)) },
    ...(batched
      ? { preset: { worker: { localQueue: { size: 100 }, completeJobBatchDelay: 0, failJobBatchDelay: 0 } } as any }
      : {}),
  });
}

export async function drainGraphile(g: Graphile, workers: number, batched: boolean, sizes: Sizes): Promise<DrainRow> {
  await resetGraphile(g);
  await addGraphileJobs(g, sizes.drainTasks);
  const win = new Window(sizes.warmupMs, sizes.measureMs);
  let dup = 0;
  let total = 0;
  let drainedAt: number | undefined;
  const runner = await graphileRunner(g, workers, batched, async (k) => {
    if (!(await recordExecution(g.sql, `job:${k}`, "graphile"))) dup++;
    win.done();
    if (++total === sizes.drainTasks) drainedAt = now();
  });
  while (!win.over && drainedAt === undefined) await sleep(25);
  await runner.stop();
  return {
    system: "graphile-worker 0.17.3",
    variant: batched ? "localQueue 100 (batched)" : "default (no batching)",
    workers,
    tasks_per_s: win.rate(drainedAt),
    completed_in_window: win.completions.length,
    claim_ms: null,
    duplicates: dup,
    errors: 0,
  };
}

export async function pickupGraphile(g: Graphile, sizes: Sizes): Promise<PickupRow> {
  await resetGraphile(g);
  const enqueuedAt = new Map<number, number>();
  const waiting = new Map<number, () => void>();
  const latencies: number[] = [];
  let dup = 0;
  const runner = await graphileRunner(g, sizes.pickupWorkers, false, async (k) => {
    const at = now();
    latencies.push(at - (enqueuedAt.get(k) ?? at));
    if (!(await recordExecution(g.sql, `job:${k}`, "graphile"))) dup++;
    waiting.get(k)?.();
  });
  await sleep(500);
  for (let k = 1; k <= sizes.pickupTasks; k++) {
    const done = new Promise<void>((r) => waiting.set(k, r));
    enqueuedAt.set(k, now());
    await g.utils.addJob("bench", { k });
    await Promise.race([done, sleep(5000)]);
    await sleep(sizes.pickupGapMs);
  }
  const idle = await idleXactRate(g.sql, g.db.name, sizes.idleMs);
  await runner.stop();
  return {
    system: "graphile-worker 0.17.3",
    workers: sizes.pickupWorkers,
    jobs: sizes.pickupTasks,
    picked: latencies.length,
    latency_ms: statsOf(latencies),
    idle_xact_per_s: idle,
    duplicates: dup,
    note: "enqueue = workerUtils.addJob; LISTEN/NOTIFY, pollInterval 2 s",
  };
}

/* ------------------------------------------------------------------ pg-boss */

export interface Boss {
  db: FreshDatabase;
  sql: Sql;
  boss: PgBoss;
  stop(): Promise<void>;
}

const QUEUE = "bench";

export async function startPgBoss(): Promise<Boss> {
  const db = await createFreshDatabase("bench_pgboss");
  const sql = pool(db.url, 16);
  await sql.unsafe(EXEC_LOG_DDL);
  const boss = new PgBoss({ connectionString: db.url, max: 18, supervise: false, schedule: false, migrate: true });
  boss.on("error", (e) => log(`pg-boss: ${e.message}`));
  await boss.start();
  await boss.createQueue(QUEUE);
  return {
    db,
    sql,
    boss,
    async stop() {
      await boss.stop({ graceful: false, close: true, wait: true } as any).catch(() => {});
      await sql.end({ timeout: 2 });
      await db.drop();
    },
  };
}

async function resetBoss(b: Boss) {
  await b.sql`delete from pgboss.job where name = ${QUEUE}`;
  await b.sql`truncate bench_exec`;
}

async function addBossJobs(b: Boss, n: number) {
  for (let from = 1; from <= n; from += 5000) {
    const jobs = Array.from({ length: Math.min(5000, n - from + 1) }, (_, i) => ({ name: QUEUE, data: { k: from + i } }));
    await b.boss.insert(jobs);
  }
  await b.sql`analyze pgboss.job`;
}

/**
 * pg-boss 10: W consumers = W `work()` calls; no LISTEN/NOTIFY, each consumer
 * fetches at most `batchSize` jobs per polling interval (0.5 s here, the minimum).
 */
export async function drainPgBoss(b: Boss, workers: number, batchSize: number, sizes: Sizes): Promise<DrainRow> {
  await resetBoss(b);
  await addBossJobs(b, sizes.drainTasks);
  const win = new Window(sizes.warmupMs, sizes.measureMs);
  let dup = 0;
  let total = 0;
  let active = 0;
  let drainedAt: number | undefined;
  for (let i = 0; i < workers; i++) {
    await b.boss.work<{ k: number }>(QUEUE, { batchSize, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      active++;
      try {
        for (const job of jobs) {
          if (!(await recordExecution(b.sql, `job:${job.data.k}`, "pgboss"))) dup++;
          win.done();
          if (++total === sizes.drainTasks) drainedAt = now();
        }
      } finally {
        active--;
      }
    });
  }
  while (!win.over && drainedAt === undefined) await sleep(25);
  await b.boss.offWork(QUEUE);
  // offWork stops fetching; a batch being worked goes on. Let it finish before
  // the next run resets the tables, or its late writes would meet the next
  // run's keys and count as duplicates.
  const settle = now() + 15_000;
  while (active > 0 && now() < settle) await sleep(25);
  return {
    system: "pg-boss 10.4.2",
    variant: `batchSize ${batchSize}, polling 0.5 s`,
    workers,
    tasks_per_s: win.rate(drainedAt),
    completed_in_window: win.completions.length,
    claim_ms: null,
    duplicates: dup,
    errors: 0,
  };
}

export async function pickupPgBoss(b: Boss, sizes: Sizes): Promise<PickupRow> {
  await resetBoss(b);
  const enqueuedAt = new Map<number, number>();
  const waiting = new Map<number, () => void>();
  const latencies: number[] = [];
  let dup = 0;
  for (let i = 0; i < sizes.pickupWorkers; i++) {
    await b.boss.work<{ k: number }>(QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
      for (const job of jobs) {
        const at = now();
        latencies.push(at - (enqueuedAt.get(job.data.k) ?? at));
        if (!(await recordExecution(b.sql, `job:${job.data.k}`, "pgboss"))) dup++;
        waiting.get(job.data.k)?.();
      }
    });
  }
  await sleep(700);
  for (let k = 1; k <= sizes.pickupTasksPgBoss; k++) {
    const done = new Promise<void>((r) => waiting.set(k, r));
    enqueuedAt.set(k, now());
    await b.boss.send(QUEUE, { k });
    await Promise.race([done, sleep(5000)]);
    await sleep(sizes.pickupGapMs + Math.random() * 100); // do not phase-lock with the pollers
  }
  const idle = await idleXactRate(b.sql, b.db.name, sizes.idleMs);
  await b.boss.offWork(QUEUE);
  return {
    system: "pg-boss 10.4.2",
    workers: sizes.pickupWorkers,
    jobs: sizes.pickupTasksPgBoss,
    picked: latencies.length,
    latency_ms: statsOf(latencies),
    idle_xact_per_s: idle,
    duplicates: dup,
    note: "enqueue = boss.send; polling 0.5 s (no LISTEN/NOTIFY), fewer jobs because each waits for a poll",
  };
}



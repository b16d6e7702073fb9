import { execSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { cpus, loadavg, totalmem } from "node:os";
import postgres from "postgres";

export { spawnApi, type SpawnedApi } from "./api-process.ts";

export type Sql = ReturnType<typeof postgres>;

/** The PostgreSQL server the bench creates its databases on (the one the test suites use). */
export const ADMIN_DATABASE_URL = process.env.OPS_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database for one system's run, dropped at the end. */
export async function createFreshDatabase(prefix: string): Promise<FreshDatabase> {
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  const admin = pool(ADMIN_DATABASE_URL, 1);
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    throw new Error(`the bench needs PostgreSQL at ${ADMIN_DATABASE_URL} (${(error as Error).message}); set OPS_TEST_DATABASE_URL`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = pool(ADMIN_DATABASE_URL, 1);
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

export const now = () => performance.now();
export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A pool on one database; notices off, small by default (the server is shared). */
export function pool(url: string, max = 4): Sql {
  return postgres(url, { max, onnotice: () => {}, connect_timeout: 10, idle_timeout: 30 });
}

export interface Stats {
  n: number;
  p50: number | null;
  p95: number | null;
  p99: number | null;
  mean: number | null;
  max: number | null;
}

/** Percentiles by nearest rank, in ms, rounded to 0.01. */
export function stats(samples: readonly number[]): Stats {
  if (samples.length === 0) return { n: 0, p50: null, p95: null, p99: null, mean: null, max: null };
  const s = [...samples].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.max(0, Math.ceil(q * s.length) - 1))]!);
  return {
    n: s.length,
    p50: at(0.5),
    p95: at(0.95),
    p99: at(0.99),
    mean: round(s.reduce((a, b) => a + b, 0) / s.length),
    max: round(s[s.length - 1]!),
  };
}

export const round = (x: number, digits = 2) => Math.round(x * 10 ** digits) / 10 ** digits;

/**
 * The one committed write every job does, whatever the system: a row in a
 * table with a unique key. A second execution of the same job is counted as a
 * duplicate (the insert does nothing), the same way for every system.
 */
export const EXEC_LOG_DDL = `create table if not exists bench_exec (
  job_key text primary key,
  worker text not null,
  done_at timestamptz not null default now()
)`;

export async function recordExecution(sql: Sql, key: string, worker: string): Promise<boolean> {
  const rows = await sql`insert into bench_exec (job_key, worker) values (${key}, ${worker}) on conflict (job_key) do nothing returning 1`;
  return rows.length === 1;
}

/** Transactions committed + rolled back in one database (pg_stat_database). */
export async function xactCount(admin: Sql, dbName: string): Promise<number> {
  const [row] = await admin`select xact_commit + xact_rollback as n from pg_stat_database where datname = ${dbName}`;
  return Number(row?.n ?? 0);
}

/**
 * Transactions per second in `dbName` over `ms`. Backends flush their counters
 * when they go idle (at most once a second), so the window should be several
 * seconds; the edges cost about a second's worth of error.
 */
export async function idleXactRate(_db: Sql, dbName: string, ms: number): Promise<number> {
  // Autovacuum's own transactions count in pg_stat_database too, and the churn
  // of the scenario before would trigger it inside the window: switch it off
  // for this (throw-away) database's tables, on a connection of its own.
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${dbName}`;
  const ddl = pool(url.toString(), 1);
  await ddl.unsafe(`do $$ declare r record; begin
      for r in select n.nspname, c.relname from pg_class c join pg_namespace n on n.oid = c.relnamespace
               where c.relkind = 'r' and n.nspname not in ('pg_catalog', 'information_schema', 'pg_toast') loop
        begin
          execute format('alter table %I.%I set (autovacuum_enabled = false)', r.nspname, r.relname);
        exception when others then null;
        end;
      end loop; end $$`);
  await ddl.end({ timeout: 2 });
  // Read from the maintenance database so the reads are not counted themselves.
  const admin = pool(ADMIN_DATABASE_URL, 1);
  try {
    return await idleRate(admin, dbName, ms);
  } finally {
    await admin.end({ timeout: 1 });
  }
}

async function idleRate(admin: Sql, dbName: string, ms: number): Promise<number> {
  // A backend that went idle less than a second after its last flush holds its
  // counters for up to 10 s (PostgreSQL 15's idle stats interval): wait that
  // out, or the busy seconds before the window land inside it. (--quick waits
  // less and its idle figure is rougher.)
  await sleep(ms >= 5000 ? 11_000 : 1200);
  const a = await xactCount(admin, dbName);
  const t0 = now();
  await sleep(ms);
  await sleep(1100); // let the window's last counters flush
  const b = await xactCount(admin, dbName);
  return round((b - a) / ((now() - t0 - 1100) / 1000), 1);
}

export function machine() {
  let uptime = "";
  try {
    uptime = execSync("uptime", { encoding: "utf8" }).trim();
  } catch {
    uptime = `loadavg ${loadavg().map((x) => x.toFixed(2)).join(" ")}`;
  }
  return {
    cpus: cpus().length,
    cpu_model: cpus()[0]?.model ?? "?",
    mem_gb: round(totalmem() / 2 ** 30, 1),
    node: process.version,
    uptime,
    loadavg: loadavg().map((x) => round(x)),
  };
}

export function log(...args: unknown[]) {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${args.map(String).join(" ")}\n`);
}

/**
 * Counts completions in the measuring window only: the first `warmupMs` of a
 * run warm the pools and plans, then `measureMs` are counted. If the queue runs
 * dry inside the window, the rate uses the time up to the last completion.
 */
export class Window {
  readonly start = now();
  readonly from: number;
  readonly to: number;
  completions: number[] = [];
  claimLatencies: number[] = [];
  constructor(warmupMs: number, measureMs: number) {
    this.from = this.start + warmupMs;
    this.to = this.from + measureMs;
  }
  get over() {
    return now() >= this.to;
  }
  done(at = now()) {
    if (at >= this.from && at < this.to) this.completions.push(at);
  }
  claim(startedAt: number, at = now()) {
    if (startedAt >= this.from && at < this.to) this.claimLatencies.push(at - startedAt);
  }
  rate(drainedAt?: number): number {
    const end = drainedAt !== undefined && drainedAt < this.to ? Math.max(drainedAt, this.from + 1) : this.to;
    return round(this.completions.length / ((end - this.from) / 1000), 1);
  }
}

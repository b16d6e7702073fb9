import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { Agent, request } from "node:http";
import { join } from "node:path";
import { WORKER_TOKEN_PREFIX } from "@ops/contract";
import { REPO_ROOT } from "./api-process.ts";
import { heartbeatBody } from "./client.ts";
import { type LoopStats, loopStats } from "./loop-stats.ts";
import { preloadQueued, startOurSystem } from "./ours.ts";
import { startPgBoss } from "./peers.ts";
import type { Sizes } from "./types.ts";
import { idleXactRate, log, machine, now, round, sleep, type Stats, stats } from "./util.ts";

// `fleet` (issue 12): N simulated launchers against ONE API process on
// PostgreSQL. Each does what the real launcher does: heartbeats every 15 s,
// parks on POST /api/dispatch/next with wait_ms 25000 (and parks again when it
// ends), and reports started/finished for a task it gets. Measured: the idle
// database transactions/s of the whole fleet (heartbeats included), pickup of
// tasks queued one at a time while everyone is parked, double claims, lost
// tasks, the API process's CPU and RSS; beside it, the same number of pg-boss
// workers idle on a database of their own.
//
// `--fleet-auth=worker`: each simulated launcher authenticates with a worker
// token of its own (X-OPS-Worker-Token, bound to its worker id), as real
// launchers do, instead of the shared service token. The tokens are issued in
// bulk straight into worker_credentials before the fleet starts. The pg-boss
// column is skipped then: it does not depend on how our launchers sign in.
//
// `FLEET_DIAG_DIR=/tmp/diag` (where the pickup time goes): the API runs with
// `api-preload.ts`, and for the pickup window the simulator and the API each
// report event-loop delay and GC pauses (and, with FLEET_PROFILE=1, a CPU
// profile of the window into that directory); then, with the fleet still
// parked, `pickup-probe.ts` times the same number of pickups from a process of
// its own (one launcher on a slug the fleet does not serve; see the file).

export type FleetAuth = "service" | "worker";

export interface FleetRow {
  launchers: number;
  /** How the simulated launchers authenticated: the shared service token, or a worker token each. */
  auth: FleetAuth;
  parked_at_start: number;
  idle_xact_per_s: number;
  pgboss_idle_xact_per_s: number | null;
  ratio_pgboss_to_ours: number | null;
  pickup_ms: Stats;
  tasks: number;
  picked: number;
  claimed_twice: number;
  lost: number;
  api_cpu_percent_idle: number;
  api_cpu_percent_pickup: number;
  api_rss_mb: number;
  heartbeats_sent: number;
  http_errors: number;
  /** What they were: "<path> <status or socket error>" → count. */
  http_error_kinds: Record<string, number>;
  loadavg: number[];
  /** FLEET_DIAG_DIR only: where the pickup time went. */
  diag?: FleetDiag;
}

export interface FleetDiag {
  /** The simulator's own event loop and GC during the fleet's pickup window. */
  simulator: LoopStats;
  /** The API's, same window (api-preload.ts). */
  api: LoopStats | null;
  /** Pickup timed by a process of its own while the fleet is parked, and the API during it. */
  probe: {
    /** Queued through POST /tasks/:id/dispatch (a third of the tasks). */
    pickup_ms: Stats;
    /** Queued by one SQL statement (update + pg_notify): the claim side alone. */
    pickup_sql_enqueue_ms: Stats;
    enqueue_call_ms: Stats;
    /** A heartbeat's round trip (HTTP, auth, validation; no database write). */
    heartbeat_ms: Stats;
    /** `select 1` from the probe: a PostgreSQL round trip. */
    select1_ms: Stats;
    /** The SQL enqueue alone (update to queued, no NOTIFY, nobody parked). */
    sql_enqueue_ms: Stats;
    /** `dispatch/next` with wait_ms 0 on a queued task: claim statement + HTTP, no NOTIFY or dispatcher. */
    direct_claim_ms: Stats;
    missed: number;
    loop: LoopStats;
    api: LoopStats | null;
    loadavg: number[];
  } | null;
}

export interface FleetResult {
  rows: FleetRow[];
  heartbeat_seconds: number;
  wait_ms: number;
}

const HEARTBEAT_S = 15;
const WAIT_MS = 25_000;

/** CPU seconds (user + system) and RSS of a process, from /proc. */
function procStats(pid: number): { cpuS: number; rssMb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // After the command: state is field 3; utime and stime are fields 14 and 15 (1-based in proc(5)).
  const ticks = Number(fields[11]) + Number(fields[12]);
  const rss = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return { cpuS: ticks / 100, rssMb: round(Number(rss?.[1] ?? 0) / 1024, 1) };
}

/**
 * A small HTTP client for thousands of simulated launchers in one process:
 * one keep-alive agent with a socket per parked request, JSON in and out.
 */
function fleetClient(apiBase: string, authHeaders: (workerId: string | undefined) => Record<string, string>) {
  const url = new URL(apiBase);
  const agent = new Agent({ keepAlive: true, maxSockets: Number.POSITIVE_INFINITY, maxFreeSockets: 20_000 });
  let errors = 0;
  /** What the errors were (status or message), counted. */
  const kinds = new Map<string, number>();
  const fail = (kind: string) => {
    errors++;
    kinds.set(kind, (kinds.get(kind) ?? 0) + 1);
  };
  const post = (path: string, body: { worker_id?: string } & Record<string, unknown>): Promise<any> =>
    new Promise((resolve) => {
      const payload = JSON.stringify(body);
      const req = request(
        {
          agent,
          host: url.hostname,
          port: url.port,
          method: "POST",
          path: `${url.pathname}${path}`,
          headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), ...authHeaders(body.worker_id) },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on("data", (c: Buffer) => chunks.push(c));
          res.on("end", () => {
            if ((res.statusCode ?? 500) >= 400) fail(`${path.split("/").slice(0, 3).join("/")} ${res.statusCode}`);
            try {
              resolve(JSON.parse(Buffer.concat(chunks).toString("utf8")));
            } catch {
              resolve(undefined);
            }
          });
        },
      );
      req.on("error", (e: Error & { code?: string }) => {
        fail(`${path.split("/").slice(0, 3).join("/")} ${e.code ?? e.message}`);
        resolve(undefined);
      });
      req.end(payload);
    });
  return { post, errors: () => errors, kinds: () => Object.fromEntries(kinds), close: () => agent.destroy() };
}

/**
 * Issues one worker token per worker id (the whole instance as its pool) in a
 * single statement, as the API would store them (sha256 of the token), and
 * returns worker id → token.
 */
async function issueWorkerTokens(sql: Awaited<ReturnType<typeof startOurSystem>>["sql"], ids: string[]): Promise<Map<string, string>> {
  const tokens = new Map(ids.map((id) => [id, `${WORKER_TOKEN_PREFIX}${randomBytes(32).toString("base64url")}`]));
  const hashes = ids.map((id) => createHash("sha256").update(tokens.get(id)!, "utf8").digest("hex"));
  await sql`insert into worker_credentials (worker_id, label, token_hash, workspace_ids, created_by)
            select worker_id, 'fleet bench', token_hash, null, 'bench'
            from unnest(${sql.array(ids)}::text[], ${sql.array(hashes)}::text[]) as x(worker_id, token_hash)`;
  return tokens;
}

const DIAG_DIR = process.env.FLEET_DIAG_DIR;
const PROFILE = process.env.FLEET_PROFILE === "1";

/** Starts/ends a window in the API's preload (SIGUSR2) and reads its figures once written. */
async function apiWindow(pid: number, file: string, end: boolean): Promise<LoopStats | null> {
  if (end) rmSync(file, { force: true });
  process.kill(pid, "SIGUSR2");
  if (!end) return null;
  const deadline = now() + 10_000;
  while (!existsSync(file) && now() < deadline) await sleep(50);
  await sleep(50);
  return existsSync(file) ? (JSON.parse(readFileSync(file, "utf8")) as LoopStats) : null;
}

/** Runs `pickup-probe.ts` in a process of its own against the API and returns its figures. */
function runProbe(env: Record<string, string>): Promise<any> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "bench/src/pickup-probe.ts")],
      { cwd: REPO_ROOT, env: { ...process.env, ...env }, maxBuffer: 1 << 20, timeout: 600_000 },
      (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(JSON.parse(stdout.trim().split("\n").pop()!))),
    );
  });
}

async function fleetRun(n: number, sizes: Sizes, auth: FleetAuth): Promise<FleetRow> {
  if (DIAG_DIR) mkdirSync(DIAG_DIR, { recursive: true });
  const statsFile = DIAG_DIR ? join(DIAG_DIR, `api-loop-${n}.json`) : "";
  const sys = await startOurSystem(
    "ops_bench_fleet",
    DIAG_DIR ? { BENCH_LOOP_STATS_FILE: statsFile, ...(PROFILE ? { BENCH_PROFILE_DIR: DIAG_DIR } : {}) } : {},
    16,
    DIAG_DIR ? join(REPO_ROOT, "bench/src/api-preload.ts") : undefined,
  );
  const simLoop = DIAG_DIR ? loopStats(PROFILE ? DIAG_DIR : undefined, `simulator-${n}`) : undefined;
  const ids = Array.from({ length: n }, (_, i) => `fleet-${String(i).padStart(5, "0")}`);
  const tokens = auth === "worker" ? await issueWorkerTokens(sys.sql, ids) : undefined;
  const client = fleetClient(sys.api.apiBase, (workerId): Record<string, string> =>
    tokens ? { "x-ops-worker-token": tokens.get(workerId ?? "") ?? "opsw_missing" } : { "x-ops-service-token": sys.api.serviceToken },
  );
  let stop = false;
  let parked = 0;
  let heartbeats = 0;
  const enqueuedAt = new Map<number, number>();
  const waiting = new Map<number, () => void>();
  const claimedBy = new Map<number, string>();
  const latencies: number[] = [];
  let twice = 0;
  const timers: NodeJS.Timeout[] = [];
  try {
    // Registered first (a launcher's first heartbeat is written at once).
    for (let i = 0; i < ids.length; i += 100) await Promise.all(ids.slice(i, i + 100).map((id) => client.post("/dispatch/heartbeat", heartbeatBody(id))));
    // Heartbeats every 15 s, spread evenly.
    ids.forEach((id, i) => {
      const start = setTimeout(() => {
        const beat = () => {
          heartbeats++;
          void client.post("/dispatch/heartbeat", heartbeatBody(id));
        };
        beat();
        timers.push(setInterval(beat, HEARTBEAT_S * 1000));
      }, (i / ids.length) * HEARTBEAT_S * 1000);
      timers.push(start);
    });
    // The first wait of launcher i ends at (i / n) of WAIT_MS (at least 1 s): their
    // re-parks are then spread evenly over the 25 s, as in a fleet whose launchers
    // started at different times. Started together with the same wait, all N
    // re-parked within the same second or two every 25 s — a burst the simulator
    // made, not the fleet (at 5,000 it stalled the API's event loop for up to
    // 191 ms and put the pickup p99 at 107 ms; see bench/README.md).
    const launcher = async (id: string, i: number) => {
      let waitMs = Math.max(1000, Math.round((i / n) * WAIT_MS));
      while (!stop) {
        parked++;
        const r = await client.post("/dispatch/next", { worker_id: id, agent_slugs: ["opencode"], wait_ms: waitMs });
        waitMs = WAIT_MS;
        parked--;
        if (!r?.claimed) {
          // A failed call (a keep-alive socket the server closed as it was reused: ECONNRESET) is retried, as a launcher does.
          if (!r) await sleep(50);
          continue;
        }
        const at = now();
        const taskId = Number(r.task.id);
        if (claimedBy.has(taskId)) twice++;
        claimedBy.set(taskId, id);
        const t0 = enqueuedAt.get(taskId);
        if (t0 !== undefined) latencies.push(at - t0);
        await client.post(`/dispatch/tasks/${taskId}/started`, {
          worker_id: id, attempt: r.attempt, pid: process.pid, command: ["bench-agent"], log_path: "/tmp/fleet.log", err_log_path: "/tmp/fleet.err.log",
        });
        await client.post(`/dispatch/tasks/${taskId}/finished`, { worker_id: id, attempt: r.attempt, exit_code: 0, duration_ms: 1 });
        waiting.get(taskId)?.();
      }
    };
    const running = ids.map((id, i) => launcher(id, i));
    // Everyone parked: the API has all N requests (their first claims, or "known empty", are done).
    const parkDeadline = now() + 60_000;
    while (parked < n && now() < parkDeadline) await sleep(100);
    await sleep(2000);
    const parkedAtStart = parked;
    log(`fleet ${n} (${auth} tokens): ${parkedAtStart} parked`);

    // Idle: the whole fleet parked and heartbeating, nothing queued.
    const cpu0 = procStats(sys.api.pid);
    const t0 = now();
    const idle = await idleXactRate(sys.sql, sys.db.name, sizes.fleetIdleMs);
    const cpu1 = procStats(sys.api.pid);
    const idleCpu = round(((cpu1.cpuS - cpu0.cpuS) / ((now() - t0) / 1000)) * 100, 1);
    log(`fleet ${n} (${auth} tokens): idle ${idle} xact/s, API CPU ${idleCpu}%, RSS ${cpu1.rssMb} MB`);

    // Pickup: tasks queued one at a time through the REST API while the fleet is parked.
    await preloadQueued(sys.sql, sys.agentId, sizes.fleetTasks, "backlog");
    const taskIds = (await sys.sql`select id from tasks where status = 'backlog' order by id`).map((r) => Number(r.id));
    if (simLoop) {
      await simLoop.begin();
      await apiWindow(sys.api.pid, statsFile, false);
    }
    const cpu2 = procStats(sys.api.pid);
    const t2 = now();
    for (const id of taskIds) {
      const done = new Promise<void>((r) => waiting.set(id, r));
      enqueuedAt.set(id, now());
      await sys.rest.call("POST", `/tasks/${id}/dispatch`, {});
      await Promise.race([done, sleep(5000)]);
      await sleep(20);
    }
    const cpu3 = procStats(sys.api.pid);
    const pickupCpu = round(((cpu3.cpuS - cpu2.cpuS) / ((now() - t2) / 1000)) * 100, 1);
    let diag: FleetDiag | undefined;
    if (simLoop) {
      const simulator = await simLoop.end();
      const api = await apiWindow(sys.api.pid, statsFile, true);
      log(`fleet ${n} diag (pickup window): simulator ${JSON.stringify(simulator)}; API ${JSON.stringify(api)}`);
      // The probe: its own tasks (codex, which no simulated launcher asks for), queued one at a time.
      const [codex] = await sys.sql`select id from agents where slug = 'codex' and workspace_id = 1`;
      await preloadQueued(sys.sql, Number(codex!.id), sizes.fleetTasks, "backlog");
      const probeIds = (await sys.sql`select id from tasks where status = 'backlog' and agent_id = ${Number(codex!.id)} order by id`).map((r) => Number(r.id));
      await apiWindow(sys.api.pid, statsFile, false);
      const probe = await runProbe({
        API_BASE: sys.api.apiBase,
        TOKEN: sys.api.serviceToken,
        DATABASE_URL: sys.db.url,
        TASK_IDS: probeIds.join(","),
        ...(PROFILE ? { BENCH_PROFILE_DIR: DIAG_DIR! } : {}),
      });
      const probeApi = await apiWindow(sys.api.pid, statsFile, true);
      diag = { simulator, api, probe: { ...probe, api: probeApi, loadavg: machine().loadavg } };
      log(`fleet ${n} diag (probe): ${JSON.stringify(diag.probe)}`);
    }
    await sleep(500);
    const [row] = await sys.sql`select count(*)::int as n from tasks where status = 'review' and id in ${sys.sql(taskIds)}`;
    const finished = Number(row!.n);
    const result: FleetRow = {
      launchers: n,
      auth,
      parked_at_start: parkedAtStart,
      idle_xact_per_s: idle,
      pgboss_idle_xact_per_s: null,
      ratio_pgboss_to_ours: null,
      pickup_ms: stats(latencies),
      tasks: taskIds.length,
      picked: latencies.length,
      claimed_twice: twice,
      lost: taskIds.length - finished,
      api_cpu_percent_idle: idleCpu,
      api_cpu_percent_pickup: pickupCpu,
      api_rss_mb: procStats(sys.api.pid).rssMb,
      heartbeats_sent: heartbeats,
      http_errors: client.errors(),
      http_error_kinds: client.kinds(),
      loadavg: machine().loadavg,
      ...(diag ? { diag } : {}),
    };
    if (result.http_errors > 0) {
      log(`fleet ${n}: HTTP errors ${JSON.stringify(client.kinds())}`);
      log(`fleet ${n}: API output (last 2,000 characters): ${sys.api.output().slice(-2000)}`);
    }
    log(`fleet ${n}: pickup p50 ${result.pickup_ms.p50} / p99 ${result.pickup_ms.p99} ms, ${finished}/${taskIds.length} finished, twice ${twice}, errors ${result.http_errors}`);
    stop = true;
    void running;
    return result;
  } finally {
    stop = true;
    for (const t of timers) clearTimeout(t);
    client.close();
    await sys.stop();
  }
}

/** The same number of pg-boss workers, idle (pg-boss's default 2 s polling), on a database of their own. */
async function pgBossIdle(n: number, sizes: Sizes): Promise<number> {
  const b = await startPgBoss();
  try {
    for (let i = 0; i < n; i++) await b.boss.work("bench", { batchSize: 1, pollingIntervalSeconds: 2 }, async () => {});
    await sleep(3000);
    const rate = await idleXactRate(b.sql, b.db.name, sizes.fleetIdleMs);
    log(`pg-boss ${n} workers: idle ${rate} xact/s`);
    await b.boss.offWork("bench").catch(() => {});
    return rate;
  } finally {
    await b.stop();
  }
}

export async function fleetScenario(sizes: Sizes, auth: FleetAuth = "service"): Promise<FleetResult> {
  const rows: FleetRow[] = [];
  for (const n of sizes.fleetLaunchers) {
    const row = await fleetRun(n, sizes, auth);
    if (auth === "worker") {
      rows.push(row);
      continue;
    }
    try {
      row.pgboss_idle_xact_per_s = await pgBossIdle(n, sizes);
      row.ratio_pgboss_to_ours = row.idle_xact_per_s > 0 ? round(row.pgboss_idle_xact_per_s / row.idle_xact_per_s, 1) : null;
    } catch (error) {
      log(`pg-boss ${n} workers failed: ${(error as Error).message}`);
    }
    rows.push(row);
  }
  return { rows, heartbeat_seconds: HEARTBEAT_S, wait_ms: WAIT_MS };
}

import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { preloadQueued, startOurSystem } from "./ours.ts";
import type { Sizes } from "./types.ts";
import { ADMIN_DATABASE_URL, log, now, pool, round, sleep, type Stats, stats, xactCount } from "./util.ts";

export interface OutputResult {
  agents: number;
  launchers: number;
  bytes_per_agent_per_s: number;
  window_s: number;
  /** Claim latency (POST /dispatch/next that claims a task) with no output flowing, and with it. */
  claim_ms_idle: Stats;
  claim_ms_under_output: Stats;
  claims_under_output: number;
  uploads: number;
  uploads_per_s: number;
  mb_received: number;
  /** Per run: bytes the agent wrote = bytes the API received (both streams). */
  runs_complete: number;
  runs_short: Array<{ task_id: number; written: number; received: number }>;
  /** pg_stat_database transactions per claim → started → finished lifecycle (no output; full runs only). */
  xact_per_lifecycle: number | null;
}

/**
 * 50 agents each writing ~20 KB/s of output (lines on stdout, a line a second
 * on stderr) into log files, streamed by five launchers' OutputStreamers (the
 * launcher's own code, in a process of their own: output-launchers.ts)
 * through POST /api/dispatch/output, while a worker claims tasks through
 * POST /api/dispatch/next; claim latency is compared with the same claims
 * without output. At the end every run's received byte counts must equal its
 * files' sizes.
 */
export async function outputScenario(sizes: Sizes): Promise<OutputResult> {
  const agents = 50;
  const launchers = 5;
  const bytesPerSecond = 20 * 1024;
  const windowMs = sizes.quick ? 8000 : 30_000;
  // The watchdog's timer would add its own transactions to the per-lifecycle count; dispatch/next still runs it when due.
  const sys = await startOurSystem("ops_bench_output", { OPS_WATCHDOG_INTERVAL_MS: "3600000" });
  const dir = mkdtempSync(join(tmpdir(), "ops-bench-output-"));
  try {
    const [codex] = await sys.sql`select id from agents where slug = 'codex' and workspace_id = 1`;
    const claimWorker = "bench-claimer";
    const claimOnce = async (samples: number[]) => {
      const t0 = now();
      const r = await sys.rest.next({ worker_id: claimWorker, agent_slugs: ["codex"] });
      samples.push(now() - t0);
      if (!r.claimed) throw new Error(`nothing to claim: ${JSON.stringify(r)}`);
      const fence = { id: r.task.id, worker_id: claimWorker, attempt: r.attempt };
      await sys.rest.started({ ...fence, pid: 1, command: ["bench"], log_path: "/tmp/b.log", err_log_path: "/tmp/b.err.log" });
      await sys.rest.finished({ ...fence, exit_code: 0, duration_ms: 1 });
    };
    await preloadQueued(sys.sql, Number(codex!.id), 20_000);
    await sys.rest.heartbeat({ worker_id: claimWorker, hostname: "bench", pid: 1, version: "bench", agent_slugs: ["codex"], models: [], running_task_ids: [], free_slots: 1, cli_versions: {}, runtimes: [] });

    // Transactions per lifecycle, from pg_stat_database (read from the maintenance database),
    // with autovacuum off for this throw-away database's tables: its transactions count too.
    // Full runs only: PostgreSQL 15 holds an idle backend's counters up to 10 s, twice.
    let xactPerLifecycle: number | null = null;
    if (!sizes.quick) {
      await sys.sql.unsafe(`do $$ declare r record; begin
          for r in select relname from pg_class where relkind = 'r' and relnamespace = 'public'::regnamespace loop
            execute format('alter table %I set (autovacuum_enabled = false)', r.relname);
          end loop; end $$`);
      const admin = pool(ADMIN_DATABASE_URL, 1);
      const warm: number[] = [];
      for (let i = 0; i < 50; i++) await claimOnce(warm);
      await sleep(11_000);
      const lifecycles = 1000;
      const x0 = await xactCount(admin, sys.db.name);
      for (let i = 0; i < lifecycles; i++) await claimOnce([]);
      await sleep(11_000);
      const x1 = await xactCount(admin, sys.db.name);
      await admin.end({ timeout: 1 });
      xactPerLifecycle = round((x1 - x0) / lifecycles, 2);
      log(`output: ${xactPerLifecycle} transactions per claim → started → finished`);
    }

    const idle: number[] = [];
    const claimUntil = async (samples: number[], until: number) => {
      while (now() < until) {
        await claimOnce(samples);
        await sleep(20);
      }
    };
    await claimUntil(idle, now() + Math.min(windowMs, 8000));

    // The runs: claimed by five launcher ids, started, their log files created.
    await preloadQueued(sys.sql, sys.agentId, agents);
    const runs: Array<{ taskId: number; attempt: number; launcher: number; out: string; err: string }> = [];
    for (let i = 0; i < agents; i++) {
      const launcher = i % launchers;
      const workerId = `bench-launcher-${launcher}`;
      const r = await sys.rest.next({ worker_id: workerId, agent_slugs: ["opencode"] });
      if (!r.claimed) throw new Error("could not claim an output run");
      const out = join(dir, `${r.task.id}.log`);
      const err = join(dir, `${r.task.id}.err.log`);
      writeFileSync(out, "");
      writeFileSync(err, "");
      await sys.rest.started({ id: r.task.id, worker_id: workerId, attempt: r.attempt, pid: 1, command: ["bench-agent"], log_path: out, err_log_path: err });
      runs.push({ taskId: r.task.id, attempt: r.attempt, launcher, out, err });
    }
    // The launchers and their agents, in a process of their own (output-launchers.ts).
    const child = spawn(process.execPath, ["--import", "tsx", join(fileURLToPath(new URL(".", import.meta.url)), "output-launchers.ts")], {
      env: { ...process.env, OUTPUT_BENCH: JSON.stringify({ apiBase: sys.api.apiBase, token: sys.api.serviceToken, writeMs: windowMs, bytesPerSecond, runs }) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    let childOut = "";
    child.stdout!.on("data", (d) => (childOut += d));
    const childDone = new Promise<number | null>((resolve) => child.once("exit", resolve));
    while (!childOut.includes("writing") && child.exitCode === null) await sleep(50);

    const t0 = now();
    const underOutput: number[] = [];
    await claimUntil(underOutput, t0 + windowMs);
    const elapsed = (now() - t0) / 1000;
    // The runs end: the launchers stream the rest and report how many uploads they made.
    const code = await childDone;
    if (code !== 0) throw new Error(`the output launchers exited with ${code}`);
    const { uploads } = JSON.parse(childOut.trim().split("\n").at(-1) ?? "{}") as { uploads: number };
    const received = await sys.sql`select task_id, stdout_bytes + stderr_bytes as bytes from task_runs where task_id in ${sys.sql(runs.map((r) => r.taskId))}`;
    const byTask = new Map(received.map((r) => [Number(r.task_id), Number(r.bytes)]));
    const short: OutputResult["runs_short"] = [];
    let total = 0;
    for (const run of runs) {
      const written = statSync(run.out).size + statSync(run.err).size;
      const got = byTask.get(run.taskId) ?? 0;
      total += got;
      if (got !== written) short.push({ task_id: run.taskId, written, received: got });
    }
    return {
      agents,
      launchers,
      bytes_per_agent_per_s: bytesPerSecond,
      window_s: round(elapsed, 1),
      claim_ms_idle: stats(idle),
      claim_ms_under_output: stats(underOutput),
      claims_under_output: underOutput.length,
      uploads,
      uploads_per_s: round(uploads / elapsed, 1),
      mb_received: round(total / 2 ** 20, 1),
      runs_complete: agents - short.length,
      runs_short: short,
      xact_per_lifecycle: xactPerLifecycle,
    };
  } finally {
    await sys.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

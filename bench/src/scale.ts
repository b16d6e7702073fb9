import { heartbeatBody } from "./client.ts";
import { type OurSystem, preloadQueued, startOurSystem } from "./ours.ts";
import type { Sizes } from "./types.ts";
import { log, now, round, sleep, type Stats, stats } from "./util.ts";

export interface ScaleState {
  label: string;
  history_tasks: number;
  registered_workers: number;
  claim_ms: Stats;
  health_ms: Stats;
  health_bytes: number;
}

export interface ScaleResult {
  states: ScaleState[];
  history_insert_s: number;
  heartbeats_per_s: number;
  heartbeat_ms: Stats;
  explain: Record<string, string>;
}

async function measure(sys: OurSystem, label: string, history: number, workers: number, samples: number): Promise<ScaleState> {
  await preloadQueued(sys.sql, sys.agentId, samples);
  const client = sys.rest;
  const workerId = "bench-scale-claimer";
  await client.heartbeat(heartbeatBody(workerId));
  // Warm-up: a few of each, not counted.
  for (let i = 0; i < 10; i++) await client.health();
  const claims: number[] = [];
  for (let i = 0; i < samples; i++) {
    const t0 = now();
    const r = await client.next({ worker_id: workerId, agent_slugs: ["opencode"], wait_ms: 0 });
    const dt = now() - t0;
    if (!r.claimed) break;
    if (i >= 5) claims.push(dt);
    await client.started({ id: r.task.id, worker_id: workerId, attempt: r.attempt, pid: process.pid, command: ["bench"], log_path: "/tmp/b.log", err_log_path: "/tmp/b.err" });
    await client.finished({ id: r.task.id, worker_id: workerId, attempt: r.attempt, exit_code: 0, duration_ms: 1 });
  }
  const health: number[] = [];
  let bytes = 0;
  for (let i = 0; i < samples; i++) {
    const t0 = now();
    const res = await fetch(`${sys.api.apiBase}/dispatch/health`, { headers: { "x-ops-service-token": sys.api.serviceToken } });
    const body = await res.text();
    health.push(now() - t0);
    bytes = body.length;
  }
  const state = { label, history_tasks: history, registered_workers: workers, claim_ms: stats(claims), health_ms: stats(health), health_bytes: bytes };
  log(`scale ${label}: claim p50 ${state.claim_ms.p50} ms, health p50 ${state.health_ms.p50} ms (${bytes} B)`);
  return state;
}

/**
 * Claim and health latency on an empty table, then with N workers
 * heartbeating, then with a million finished tasks of history as well.
 */
export async function scaleScenario(sizes: Sizes): Promise<ScaleResult> {
  const sys = await startOurSystem("ops_bench_scale");
  try {
    const states: ScaleState[] = [];
    states.push(await measure(sys, "empty", 0, 1, sizes.scaleSamples));

    // N registered workers, heartbeating in the background at the launcher's pace.
    const ids = Array.from({ length: sizes.scaleWorkers }, (_, i) => `bench-fleet-${String(i).padStart(4, "0")}`);
    for (let i = 0; i < ids.length; i += 20) await Promise.all(ids.slice(i, i + 20).map((id) => sys.rest.heartbeat(heartbeatBody(id))));
    let stop = false;
    const hbLatencies: number[] = [];
    let hbCount = 0;
    const hbStarted = now();
    const tickMs = 50;
    const perTick = Math.max(1, Math.round((ids.length * tickMs) / (sizes.scaleHeartbeatSeconds * 1000)));
    const heartbeater = (async () => {
      let next = 0;
      while (!stop) {
        const t = now();
        await Promise.all(
          Array.from({ length: perTick }, () => {
            const id = ids[next++ % ids.length]!;
            const t0 = now();
            return sys.rest.heartbeat(heartbeatBody(id)).then(() => {
              hbLatencies.push(now() - t0);
              hbCount++;
            });
          }),
        );
        await sleep(Math.max(0, tickMs - (now() - t)));
      }
    })();
    try {
      states.push(await measure(sys, `${ids.length} workers`, 0, ids.length + 1, sizes.scaleSamples));

      log(`scale: inserting ${sizes.historyTasks} finished tasks of history`);
      const t0 = now();
      await sys.sql`insert into tasks (workspace_id, title, description, status, execution, agent_id, model, claimed_by, claimed_at,
                                       claim_attempt, queued_at, started_at, finished_at, dispatch_output, created_at, updated_at, created_by)
                    select 1, 'history task ' || i, 'finished long ago', case when i % 20 = 0 then 'review' else 'done' end,
                           'interactive', (select id from agents where workspace_id = 1 order by id offset (i % 4) limit 1),
                           case when i % 3 = 0 then 'qwen3.6' end, 'old-worker-' || (i % 50), ts, 1, ts, ts, ts + interval '5 minutes',
                           '{"exit_code": 0}'::jsonb, ts, ts, 'history'
                    from (select i, now() - i * interval '10 seconds' as ts from generate_series(1, ${sizes.historyTasks}) i) s`;
      await sys.sql`vacuum analyze tasks`;
      const historyInsert = round((now() - t0) / 1000, 1);
      log(`scale: history in ${historyInsert} s`);
      states.push(await measure(sys, `1M history + ${ids.length} workers`.replace("1M", sizes.historyTasks >= 1e6 ? `${sizes.historyTasks / 1e6}M` : `${sizes.historyTasks / 1000}k`), sizes.historyTasks, ids.length + 1, sizes.scaleSamples));

      const explain: Record<string, string> = {};
      await preloadQueued(sys.sql, sys.agentId, 5);
      await sys.sql
        .begin(async (tx) => {
          const plan = await tx.unsafe(`explain (analyze, buffers, costs off) with candidate as (
              select t.id from tasks t join agents a on a.id = t.agent_id
              where t.status = 'queued' and t.archived_at is null and not t.blocked
                and (not t.sensitive or t.approved_at is not null) and a.active and a.slug in ('opencode') and true
              order by t.priority desc nulls last, t.queued_at, t.id limit 1 for update of t skip locked)
            update tasks set status = 'dispatching', claimed_by = 'explain', claimed_at = now(), claim_attempt = tasks.claim_attempt + 1
            from candidate where tasks.id = candidate.id returning tasks.id`);
          explain.claim = plan.map((r) => r["QUERY PLAN"]).join("\n");
          const wd = await tx.unsafe(`explain (analyze, buffers, costs off) select t.id from tasks t left join worker_heartbeats w on w.worker_id = t.claimed_by
              where t.status in ('dispatching', 'doing') and ((t.status = 'dispatching' and t.claimed_at < now() - interval '20 minutes')
                or (w.worker_id is not null and w.last_seen_at < now() - interval '90 seconds')
                or (w.worker_id is null and t.claimed_at < now() - interval '90 seconds')) limit 500`);
          explain.watchdog = wd.map((r) => r["QUERY PLAN"]).join("\n");
          const blocked = await tx.unsafe(`explain (analyze, buffers, costs off) select count(*)::int as n from tasks where blocked and status <> 'done' and archived_at is null`);
          explain.health_blocked = blocked.map((r) => r["QUERY PLAN"]).join("\n");
          throw new Error("rollback");
        })
        .catch((e) => {
          if ((e as Error).message !== "rollback") throw e;
        });
      return {
        states,
        history_insert_s: historyInsert,
        heartbeats_per_s: round(hbCount / ((now() - hbStarted) / 1000), 1),
        heartbeat_ms: stats(hbLatencies),
        explain,
      };
    } finally {
      stop = true;
      await heartbeater;
    }
  } finally {
    await sys.stop();
  }
}

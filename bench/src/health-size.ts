// Dev aid for issue 12: the size and latency of `GET /api/dispatch/health`
// (and of a page of `GET /api/dispatch/workers`) with a registered fleet of
// 1,000 and 5,000 workers, against the real API process on PostgreSQL.
// Workers are inserted in one statement with the shape the bench's heartbeats
// send (client.ts heartbeatBody), two thirds fresh, all on the service token.
//   SIZES=1000,5000 SAMPLES=40 node --import tsx bench/src/health-size.ts
import { loadavg } from "node:os";
import { restClient } from "./client.ts";
import { createFreshDatabase, now, pool, spawnApi, stats } from "./util.ts";

const SIZES = (process.env.SIZES ?? "1000,5000").split(",").map(Number);
const SAMPLES = Number(process.env.SAMPLES ?? 40);

const db = await createFreshDatabase("bench_health_size");
const api = await spawnApi({ databaseUrl: db.url, env: { LOG_LEVEL: "warn" } });
const sql = pool(db.url, 2);
const rest = restClient(api.apiBase, api.serviceToken);

/** GET `path` SAMPLES times after a short warm-up: body bytes and latency. */
async function timed(path: string) {
  const url = `${api.apiBase}${path}`;
  const headers = { "x-ops-service-token": api.serviceToken };
  for (let i = 0; i < 5; i++) await (await fetch(url, { headers })).text();
  const ms: number[] = [];
  let bytes = 0;
  for (let i = 0; i < SAMPLES; i++) {
    const t0 = now();
    const res = await fetch(url, { headers });
    const body = await res.text();
    ms.push(now() - t0);
    if (!res.ok) throw new Error(`${path}: HTTP ${res.status} ${body.slice(0, 300)}`);
    bytes = Buffer.byteLength(body);
  }
  return { bytes, ...stats(ms) };
}

try {
  await rest.call("PUT", "/settings/dispatch_enabled", { value: "true" });
  for (const n of SIZES) {
    await sql`delete from worker_heartbeats`;
    await sql`insert into worker_heartbeats (worker_id, hostname, pid, version, agent_slugs, models, running_task_ids, free_slots, last_seen_at)
      select 'bench-w' || i, 'bench-bench-w' || i, 1000 + i, 'bench', array['opencode'], '{}', '{}', 1,
             case when i % 3 = 0 then now() - interval '10 minutes' else now() end
      from generate_series(1, ${n}) i`;
    await sql`analyze worker_heartbeats`;
    const health = await timed("/dispatch/health");
    const page = process.env.NO_PAGE ? { bytes: 0, p50: 0 } : await timed("/dispatch/workers?limit=50&stale_only=true");
    const load = loadavg().map((l) => l.toFixed(2)).join(", ");
    console.log(
      `${n} workers: health ${health.bytes} B, p50 ${health.p50} ms, p99 ${health.p99} ms; workers page (50, stale only) ${page.bytes} B, p50 ${page.p50} ms (load ${load})`,
    );
  }
} finally {
  await api.stop("SIGKILL");
  await sql.end();
  await db.drop();
}

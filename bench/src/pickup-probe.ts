import { Agent, request } from "node:http";
import { loopStats } from "./loop-stats.ts";
import { now, pool, sleep, stats } from "./util.ts";

// Pickup timed from a process of its own (issue 12): one launcher parked on
// the codex slug, which nobody in the fleet serves, so every task it queues is
// its own. The fleet simulator drives thousands of launchers and times pickup
// in the same event loop; this process only does the probe, so what it
// measures is the API (and PostgreSQL) under the fleet's load. Started by the
// fleet scenario with FLEET_DIAG_DIR set; prints one JSON line.
// Tasks rotate through three ways: queued by the REST call (POST
// /tasks/:id/dispatch, as the fleet's pickup) or by one SQL statement (update
// to queued + pg_notify: the claim side alone) while the probe is parked; or
// queued by SQL while it is not parked, then claimed by `dispatch/next` with
// wait_ms 0 (the claim statement and its HTTP round trip, no NOTIFY, no
// dispatcher; both timed). Between pickups it
// times a heartbeat (an API round trip that writes nothing: HTTP, auth,
// validation) and `select 1` (a PostgreSQL round trip), the floors under them.
//   API_BASE=… TOKEN=… DATABASE_URL=… TASK_IDS=1,2,3 node --import tsx bench/src/pickup-probe.ts

const base = new URL(process.env.API_BASE ?? "");
const token = process.env.TOKEN ?? "";
const taskIds = (process.env.TASK_IDS ?? "").split(",").filter(Boolean).map(Number);
const workerId = "pickup-probe";
const agent = new Agent({ keepAlive: true, maxSockets: 8 });

const post = (path: string, body: unknown): Promise<any> =>
  new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = request(
      {
        agent,
        host: base.hostname,
        port: base.port,
        method: "POST",
        path: `${base.pathname}${path}`,
        headers: { "content-type": "application/json", "content-length": Buffer.byteLength(payload), "x-ops-service-token": token },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => {
          const text = Buffer.concat(chunks).toString("utf8");
          if ((res.statusCode ?? 500) >= 400) reject(new Error(`${path} ${res.statusCode}: ${text}`));
          else resolve(text ? JSON.parse(text) : undefined);
        });
      },
    );
    req.on("error", reject);
    req.end(payload);
  });

const heartbeat = () =>
  post("/dispatch/heartbeat", {
    worker_id: workerId, hostname: "probe", pid: process.pid, version: "bench", agent_slugs: ["codex"], models: [], running_task_ids: [], free_slots: 1,
  });

const sql = pool(process.env.DATABASE_URL ?? "", 1);
await heartbeat();
const beat = setInterval(() => void heartbeat().catch(() => {}), 15_000);
const loop = loopStats(process.env.BENCH_PROFILE_DIR || undefined, "probe");
await loop.begin();
const pickup: number[] = [];
const pickupSql: number[] = [];
const enqueueCall: number[] = [];
const heartbeatMs: number[] = [];
const select1Ms: number[] = [];
const sqlEnqueueMs: number[] = [];
const directClaimMs: number[] = [];
let missed = 0;
const report = async (r: any) => {
  const taskId = Number(r.task.id);
  await post(`/dispatch/tasks/${taskId}/started`, {
    worker_id: workerId, attempt: r.attempt, pid: process.pid, command: ["bench-agent"], log_path: "/tmp/probe.log", err_log_path: "/tmp/probe.err.log",
  });
  await post(`/dispatch/tasks/${taskId}/finished`, { worker_id: workerId, attempt: r.attempt, exit_code: 0, duration_ms: 1 });
};
for (const [i, id] of taskIds.entries()) {
  if (i % 3 === 2) {
    let t = now();
    await sql`update tasks set status = 'queued', queued_at = now(), updated_at = now() where id = ${id}`;
    sqlEnqueueMs.push(now() - t);
    t = now();
    const r = await post("/dispatch/next", { worker_id: workerId, agent_slugs: ["codex"], wait_ms: 0 });
    if (r?.claimed) {
      directClaimMs.push(now() - t);
      await report(r);
    } else missed++;
    continue;
  }
  const viaSql = i % 3 === 1;
  let t = now();
  await heartbeat();
  heartbeatMs.push(now() - t);
  t = now();
  await sql`select 1`;
  select1Ms.push(now() - t);
  const claim = (async () => {
    for (;;) {
      const r = await post("/dispatch/next", { worker_id: workerId, agent_slugs: ["codex"], wait_ms: 25_000 });
      if (r?.claimed) return { at: now(), r };
    }
  })();
  await sleep(20); // parked before the task is queued, as in the fleet's pickup
  const t0 = now();
  if (viaSql)
    await sql`with upd as (update tasks set status = 'queued', queued_at = now(), updated_at = now() where id = ${id} returning id)
              select pg_notify('ops_dispatch_queued', 'codex') from upd`;
  else {
    await post(`/tasks/${id}/dispatch`, {});
    enqueueCall.push(now() - t0);
  }
  const got = await Promise.race([claim, sleep(5000).then(() => undefined)]);
  if (!got) {
    missed++;
    continue;
  }
  (viaSql ? pickupSql : pickup).push(got.at - t0);
  await report(got.r);
}
const loopFigures = await loop.end();
clearInterval(beat);
agent.destroy();
await sql.end({ timeout: 2 });
const figures = {
  pickup_ms: stats(pickup),
  pickup_sql_enqueue_ms: stats(pickupSql),
  enqueue_call_ms: stats(enqueueCall),
  heartbeat_ms: stats(heartbeatMs),
  select1_ms: stats(select1Ms),
  sql_enqueue_ms: stats(sqlEnqueueMs),
  direct_claim_ms: stats(directClaimMs),
  missed,
  loop: loopFigures,
};
process.stdout.write(`${JSON.stringify(figures)}\n`);
process.exit(0);

// Dev aid: workers timing each lifecycle call against a running API (API_BASE, TOKEN, DATABASE_URL),
// or a fresh one. Used with `node --cpu-prof` on the API to find where the time goes.
import { heartbeatBody, restClient } from "./client.ts";
import { preloadQueued, resetTasks } from "./ours.ts";
import { EXEC_LOG_DDL, now, pool, stats } from "./util.ts";

const sql = pool(process.env.DATABASE_URL!, 4);
await sql.unsafe(EXEC_LOG_DDL);
const c = restClient(process.env.API_BASE!, process.env.TOKEN!);
await c.call("PUT", "/settings/dispatch_enabled", { value: "true" });
const [agent] = await sql`select id from agents where slug = 'opencode'`;
const W = Number(process.env.W ?? 1);
const N = Number(process.env.N ?? 500);
await resetTasks(sql);
await preloadQueued(sql, Number(agent!.id), N + 10);
await c.heartbeat(heartbeatBody("p"));
const t = { next: [] as number[], started: [] as number[], finished: [] as number[] };
const t0 = now();
await Promise.all(Array.from({ length: W }, async (_, w) => {
  for (let i = 0; i < N / W; i++) {
    let a = now();
    const r = await c.next({ worker_id: `p${w}`, agent_slugs: ["opencode"], wait_ms: 0 });
    t.next.push(now() - a);
    a = now();
    await c.started({ id: r.task.id, worker_id: `p${w}`, attempt: r.attempt, pid: 1, command: ["x"], log_path: "/tmp/a", err_log_path: "/tmp/b" });
    t.started.push(now() - a);
    a = now();
    await c.finished({ id: r.task.id, worker_id: `p${w}`, attempt: r.attempt, exit_code: 0, duration_ms: 1 });
    t.finished.push(now() - a);
  }
}));
console.log(`W=${W} ${(N / ((now() - t0) / 1000)).toFixed(0)} tasks/s`);
for (const [k, v] of Object.entries(t)) console.log(k, JSON.stringify(stats(v)));
await sql.end();

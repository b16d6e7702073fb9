// Dev aid for issue 12's typed-client question: the launcher's lifecycle
// (claim → started → finished) through REST and through the tRPC client,
// alternated in rounds against one API process, so both paths see the same
// machine load. `PROFILE_DIR=/tmp/prof` runs the API under `--cpu-prof` (the
// profile is written when it exits); run this file itself under
// `node --cpu-prof --import tsx` for the client side.
//   ROUNDS=4 W=4 N=1500 node --import tsx bench/src/lifecycle.ts
import { readFileSync } from "node:fs";
import { loadavg } from "node:os";
import { heartbeatBody, restClient, trpcClient, type DispatchClient } from "./client.ts";
import { preloadQueued, resetTasks } from "./ours.ts";
import { createFreshDatabase, EXEC_LOG_DDL, now, pool, round, spawnApi } from "./util.ts";

const W = Number(process.env.W ?? 4);
const N = Number(process.env.N ?? 1500);
const ROUNDS = Number(process.env.ROUNDS ?? 4);
const profileDir = process.env.PROFILE_DIR;
/** `ONLY=rest` or `ONLY=trpc`: one path only, so a profile holds one path's costs. */
const only = process.env.ONLY;

const db = await createFreshDatabase("bench_lifecycle");
const api = await spawnApi({
  databaseUrl: db.url,
  env: { LOG_LEVEL: "warn" },
  nodeArgs: profileDir ? ["--cpu-prof", `--cpu-prof-dir=${profileDir}`] : [],
});
const sql = pool(db.url, 4);
try {
  await sql.unsafe(EXEC_LOG_DDL);
  const rest = restClient(api.apiBase, api.serviceToken);
  const trpc = trpcClient(api.baseUrl, api.serviceToken);
  await rest.call("PUT", "/settings/dispatch_enabled", { value: "true" });
  const [agent] = await sql`select id from agents where slug = 'opencode' and workspace_id = 1`;
  const cmd = { pid: 1, command: ["bench-agent"], log_path: "/tmp/a.log", err_log_path: "/tmp/a.err.log" };

  // CPU time per lifecycle is what the two paths cost; tasks/s on a shared machine mostly says how busy it was.
  const ticksPerMs = 100 / 1000; // USER_HZ
  const apiCpuMs = () => {
    const fields = readFileSync(`/proc/${api.pid}/stat`, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) / ticksPerMs;
  };
  const clientCpuMs = () => {
    const u = process.cpuUsage();
    return (u.user + u.system) / 1000;
  };
  const round1 = async (client: DispatchClient, n: number) => {
    await resetTasks(sql);
    await preloadQueued(sql, Number(agent!.id), n + W);
    const ids = Array.from({ length: W }, (_, i) => `lc-${client.kind}-${i}`);
    await Promise.all(ids.map((id) => client.heartbeat(heartbeatBody(id))));
    let done = 0;
    const t0 = now();
    const api0 = apiCpuMs();
    const client0 = clientCpuMs();
    await Promise.all(
      ids.map(async (worker_id) => {
        while (done < n) {
          const r = await client.next({ worker_id, agent_slugs: ["opencode"], wait_ms: 0 });
          if (!r.claimed) return;
          const base = { id: Number(r.task.id), worker_id, attempt: Number(r.attempt) };
          await client.started({ ...base, ...cmd });
          await client.finished({ ...base, exit_code: 0, duration_ms: 1 });
          done++;
        }
      }),
    );
    return {
      rate: round((done / (now() - t0)) * 1000, 1),
      apiMs: round((apiCpuMs() - api0) / done, 3),
      clientMs: round((clientCpuMs() - client0) / done, 3),
    };
  };

  // Warm both paths (JIT, prepared statements) before anything is timed.
  if (only !== "trpc") await round1(rest, 200);
  if (only !== "rest") await round1(trpc, 200);
  const figures: Record<string, { rate: number; apiMs: number; clientMs: number }[]> = { rest: [], trpc: [] };
  for (let i = 0; i < ROUNDS; i++) {
    for (const client of [rest, trpc].filter((c) => !only || c.kind === only)) {
      const r = await round1(client, N);
      figures[client.kind]!.push(r);
      console.log(
        `round ${i + 1} ${client.kind}: ${r.rate} tasks/s, CPU per lifecycle: API ${r.apiMs} ms, client ${r.clientMs} ms (load ${loadavg().map((l) => l.toFixed(2)).join(", ")})`,
      );
    }
  }
  const mean = (xs: number[]) => round(xs.reduce((a, b) => a + b, 0) / xs.length, 3);
  for (const kind of ["rest", "trpc"]) {
    const rows = figures[kind]!;
    if (rows.length === 0) continue;
    console.log(
      `W=${W} N=${N} ${kind}: ${mean(rows.map((r) => r.rate))} tasks/s; CPU per lifecycle API ${mean(rows.map((r) => r.apiMs))} ms, client ${mean(rows.map((r) => r.clientMs))} ms`,
    );
  }
} finally {
  await api.stop("SIGTERM");
  await sql.end();
  await db.drop();
}

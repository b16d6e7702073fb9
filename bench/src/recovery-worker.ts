/**
 * A small worker process for the recovery scenario: heartbeats, claims
 * CLAIMS tasks through the REST API, reports them started, prints READY and
 * keeps heartbeating until it is killed (SIGKILL, by the bench).
 */
import { heartbeatBody, restClient } from "./client.ts";

const api = restClient(process.env.OPS_API_BASE!, process.env.OPS_SERVICE_TOKEN!);
const workerId = process.env.WORKER_ID ?? `bench-victim-${process.pid}`;
const claims = Number(process.env.CLAIMS ?? 4);
const held: { id: number; attempt: number }[] = [];

await api.heartbeat(heartbeatBody(workerId));
while (held.length < claims) {
  const r = await api.next({ worker_id: workerId, agent_slugs: ["opencode"], wait_ms: 5000 });
  if (!r.claimed) continue;
  await api.started({
    id: r.task.id,
    worker_id: workerId,
    attempt: r.attempt,
    pid: process.pid,
    command: ["bench-agent", String(r.task.id)],
    log_path: "/tmp/bench-victim.log",
    err_log_path: "/tmp/bench-victim.err.log",
  });
  held.push({ id: Number(r.task.id), attempt: Number(r.attempt) });
}
await api.heartbeat(heartbeatBody(workerId, held.map((h) => h.id)));
process.stdout.write(`READY ${JSON.stringify({ worker_id: workerId, held })}\n`);
setInterval(() => {
  api.heartbeat(heartbeatBody(workerId, held.map((h) => h.id))).catch(() => {});
}, 1000);

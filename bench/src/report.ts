import type { FleetResult } from "./fleet.ts";
import type { OutputResult } from "./output.ts";
import type { RecoveryResult } from "./recovery.ts";
import type { ScaleResult } from "./scale.ts";
import type { DrainRow, PickupRow } from "./types.ts";
import { round } from "./util.ts";

const v = (x: number | null | undefined) => (x === null || x === undefined || Number.isNaN(x) ? "–" : String(x));
const table = (head: string[], rows: (string | number)[][]) =>
  [`| ${head.join(" | ")} |`, `|${head.map(() => "---").join("|")}|`, ...rows.map((r) => `| ${r.join(" | ")} |`)].join("\n");

export function renderMarkdown(r: {
  mode: string;
  finished_at: string;
  duration_s: number;
  machine: { cpus: number; cpu_model: string; mem_gb: number; node: string; uptime: string; uptime_after: string };
  drain: DrainRow[];
  pickup: PickupRow[];
  scale: ScaleResult | undefined;
  recovery: RecoveryResult | undefined;
  output?: OutputResult | undefined;
  fleet?: FleetResult | undefined;
  targets: { target: string; met: boolean | null; detail: string }[];
  correctness_failures: string[];
  failures: string[];
}): string {
  const out: string[] = [];
  out.push(`### Benchmark (${r.mode}) — ${r.finished_at}`);
  out.push("");
  out.push(
    `Machine: ${r.machine.cpus} × ${r.machine.cpu_model}, ${r.machine.mem_gb} GB, Node ${r.machine.node}, PostgreSQL 15 on the same host. ` +
      `Load at start: \`${r.machine.uptime}\`; at end: \`${r.machine.uptime_after}\`. Run took ${r.duration_s} s.`,
  );
  if (r.drain.length) {
    out.push("", "**1. Drain throughput** (queue preloaded; tasks/s in the measuring window after warm-up)", "");
    const byW = new Map<number, DrainRow[]>();
    for (const d of r.drain) byW.set(d.workers, [...(byW.get(d.workers) ?? []), d]);
    const rows: (string | number)[][] = [];
    for (const [w, list] of byW) {
      const raw = list.find((d) => d.system.startsWith("raw"))?.tasks_per_s;
      const graphile = list.find((d) => d.system.startsWith("graphile") && d.variant.startsWith("default"))?.tasks_per_s;
      for (const d of list) {
        rows.push([
          w,
          d.system,
          d.variant,
          d.tasks_per_s,
          v(d.claim_ms?.p50),
          v(d.claim_ms?.p95),
          v(d.claim_ms?.p99),
          raw ? `${round((d.tasks_per_s / raw) * 100, 0)}%` : "–",
          graphile ? `${round(d.tasks_per_s / graphile, 2)}×` : "–",
          d.duplicates,
        ]);
      }
    }
    out.push(table(["W", "system", "variant", "tasks/s", "claim p50 ms", "p95", "p99", "of raw", "vs graphile", "dup"], rows));
  }
  if (r.pickup.length) {
    out.push("", "**2. Pickup latency** (idle workers; jobs enqueued one at a time; enqueue → claim)", "");
    out.push(
      table(
        ["system", "W", "jobs", "p50 ms", "p99 ms", "max ms", "idle DB xact/s", "dup", "note"],
        r.pickup.map((p) => [p.system, p.workers, `${p.picked}/${p.jobs}`, v(p.latency_ms.p50), v(p.latency_ms.p99), v(p.latency_ms.max), Number.isNaN(p.idle_xact_per_s) ? "–" : p.idle_xact_per_s, p.duplicates, p.note ?? ""]),
      ),
    );
    const ours = r.pickup.find((p) => p.enqueue_call_ms);
    if (ours?.enqueue_call_ms) out.push("", `(The REST enqueue call itself: p50 ${ours.enqueue_call_ms.p50} ms, p99 ${ours.enqueue_call_ms.p99} ms.)`);
  }
  if (r.scale) {
    const base = r.scale.states[0];
    out.push("", "**3. Scale** (sequential calls, one client; ratios against the first row)", "");
    out.push(
      table(
        ["state", "history", "workers", "claim p50 ms", "claim p99", "health p50 ms", "health p99", "health bytes", "claim ×", "health ×"],
        r.scale.states.map((s) => [
          s.label,
          s.history_tasks,
          s.registered_workers,
          v(s.claim_ms.p50),
          v(s.claim_ms.p99),
          v(s.health_ms.p50),
          v(s.health_ms.p99),
          s.health_bytes,
          base?.claim_ms.p50 && s.claim_ms.p50 ? `${round(s.claim_ms.p50 / base.claim_ms.p50, 2)}×` : "–",
          base?.health_ms.p50 && s.health_ms.p50 ? `${round(s.health_ms.p50 / base.health_ms.p50, 2)}×` : "–",
        ]),
      ),
    );
    out.push("", `History insert: ${r.scale.history_insert_s} s. Background heartbeats: ${r.scale.heartbeats_per_s}/s (p50 ${r.scale.heartbeat_ms.p50} ms).`);
  }
  if (r.recovery) {
    const x = r.recovery;
    out.push("", "**4. Recovery** (SIGKILL a worker process holding claims; times from the kill)", "");
    out.push(
      table(
        ["tasks", "worker stale s", "watchdog ms", "recovered p50/max ms", "re-dispatched max ms", "finished max ms", "lost", "run twice", "stale report refused"],
        [[x.tasks, x.worker_stale_seconds, x.watchdog_interval_ms, `${v(x.recovered_ms.p50)} / ${v(x.recovered_ms.max)}`, v(x.redispatched_ms.max), v(x.finished_ms.max), x.lost, x.ran_twice, x.stale_report_refused ? "yes" : "NO"]],
      ),
    );
    out.push(
      "",
      `With the defaults (${x.projection_default_s.worker_stale_seconds} s stale, ${x.projection_default_s.watchdog_interval_s} s watchdog timer): recovered within ${x.projection_default_s.expected_max_s} s at most (projected from this run: ${x.projection_default_s.from_measurement_s} s).`,
    );
  }
  if (r.output) {
    const o = r.output;
    out.push("", `**5. Output** (${o.agents} agents × ${round(o.bytes_per_agent_per_s / 1024, 0)} KB/s of stdout/stderr streamed by ${o.launchers} launchers for ${o.window_s} s, while a worker claims)`, "");
    out.push(
      table(
        ["claims", "claim p50 ms", "claim p99 ms", "uploads/s", "MB received", "runs with every byte", "xact per lifecycle"],
        [
          ["no output", v(o.claim_ms_idle.p50), v(o.claim_ms_idle.p99), "–", "–", "–", v(o.xact_per_lifecycle)],
          [`${o.claims_under_output} under output`, v(o.claim_ms_under_output.p50), v(o.claim_ms_under_output.p99), o.uploads_per_s, o.mb_received, `${o.runs_complete}/${o.agents}`, "–"],
        ],
      ),
    );
  }
  if (r.fleet?.rows.length) {
    out.push("", `**6. Fleet** (simulated launchers on ONE API process: heartbeat every ${r.fleet.heartbeat_seconds} s, parked on dispatch/next with wait_ms ${r.fleet.wait_ms}; idle = whole fleet parked, nothing queued; pickup = tasks queued one at a time via REST)`, "");
    out.push(
      table(
        ["launchers", "idle DB xact/s", "pg-boss idle xact/s (same N)", "pg-boss ×", "pickup p50 ms", "p99 ms", "picked", "twice", "lost", "API CPU idle / pickup", "API RSS MB", "load"],
        r.fleet.rows.map((f) => [
          `${f.launchers} (${f.auth ?? "service"} tokens)`,
          f.idle_xact_per_s,
          v(f.pgboss_idle_xact_per_s),
          v(f.ratio_pgboss_to_ours),
          v(f.pickup_ms.p50),
          v(f.pickup_ms.p99),
          `${f.picked}/${f.tasks}`,
          f.claimed_twice,
          f.lost,
          `${f.api_cpu_percent_idle}% / ${f.api_cpu_percent_pickup}%`,
          f.api_rss_mb,
          f.loadavg.join(" "),
        ]),
      ),
    );
    for (const f of r.fleet.rows) if (f.http_errors > 0) out.push("", `HTTP errors at ${f.launchers} (retried by the simulated launcher): ${JSON.stringify(f.http_error_kinds)}`);
  }
  if (r.targets.length) {
    out.push("", "**Targets**", "");
    out.push(table(["target", "met", "figures"], r.targets.map((t) => [t.target, t.met === null ? "?" : t.met ? "yes" : "**no**", t.detail])));
  }
  if (r.correctness_failures.length || r.failures.length) {
    out.push("", "**Failures**", "", ...r.correctness_failures.map((f) => `- ${f}`), ...r.failures.map((f) => `- ${f.split("\n")[0]}`));
  }
  return `${out.join("\n")}\n`;
}

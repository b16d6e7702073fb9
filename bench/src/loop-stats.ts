import { writeFileSync } from "node:fs";
import { Session } from "node:inspector";
import { join } from "node:path";
import { type IntervalHistogram, monitorEventLoopDelay, type PerformanceEntry, PerformanceObserver } from "node:perf_hooks";

// Where a process's time goes during a measuring window (issue 12's pickup
// question): event-loop delay (how long a ready callback waited for the loop),
// GC pauses, and optionally a CPU profile of the window alone, taken through
// the inspector so the process need not exit to write it. Used by the fleet
// scenario for the simulator itself and, through `api-preload.ts`, for the API.

export interface LoopStats {
  /**
   * Event-loop delay over the window, ms: how late the 10 ms sampling timer
   * ran. Node's histogram includes the 10 ms interval itself; it is subtracted.
   */
  delay_ms: { p50: number; p99: number; max: number; mean: number };
  gc: { count: number; total_ms: number; max_ms: number; major: number };
  window_ms: number;
}

const RESOLUTION_MS = 10;
const late = (ns: number) => Math.max(0, Math.round((ns / 1e6 - RESOLUTION_MS) * 100) / 100);

export function loopStats(profileDir?: string, label = "process") {
  const h: IntervalHistogram = monitorEventLoopDelay({ resolution: RESOLUTION_MS });
  h.enable();
  const gcs: { duration: number; kind: number }[] = [];
  const obs = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) gcs.push({ duration: e.duration, kind: (e as PerformanceEntry & { detail?: { kind?: number } }).detail?.kind ?? 0 });
  });
  obs.observe({ entryTypes: ["gc"] });
  let session: Session | undefined;
  let started = performance.now();
  const post = (method: string, params?: object) =>
    new Promise<any>((resolve, reject) => session!.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res))));
  return {
    /** Starts a window: counters reset, the profiler started when a directory was given. */
    async begin(): Promise<void> {
      h.reset();
      gcs.length = 0;
      started = performance.now();
      if (profileDir) {
        session = new Session();
        session.connect();
        await post("Profiler.enable");
        await post("Profiler.start");
      }
    },
    /** Ends the window: its figures, and the profile written as `<label>-<time>.cpuprofile`. */
    async end(): Promise<LoopStats & { profile?: string }> {
      const window_ms = Math.round(performance.now() - started);
      let profile: string | undefined;
      if (session) {
        const { profile: p } = await post("Profiler.stop");
        profile = join(profileDir!, `${label}-${Date.now()}.cpuprofile`);
        writeFileSync(profile, JSON.stringify(p));
        session.disconnect();
        session = undefined;
      }
      // kind 1 = minor (scavenge), 2 = major (mark-compact), 4 = incremental, 8 = weak callbacks.
      return {
        delay_ms: { p50: late(h.percentile(50)), p99: late(h.percentile(99)), max: late(h.max), mean: late(h.mean) },
        gc: {
          count: gcs.length,
          total_ms: Math.round(gcs.reduce((s, g) => s + g.duration, 0) * 10) / 10,
          max_ms: Math.round(Math.max(0, ...gcs.map((g) => g.duration)) * 10) / 10,
          major: gcs.filter((g) => g.kind === 2).length,
        },
        window_ms,
        ...(profile ? { profile } : {}),
      };
    },
  };
}

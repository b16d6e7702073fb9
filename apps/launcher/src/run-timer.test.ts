import { describe, expect, it } from "vitest";
import type { LaunchRecord } from "./launch.ts";
import { overdueRuns } from "./run-timer.ts";

const MIN = 60_000;
const run = (taskId: number, over: Partial<LaunchRecord> = {}): LaunchRecord => ({
  taskId,
  attempt: 1,
  slug: "codex",
  pid: 100 + taskId,
  startedAt: 0,
  command: ["codex"],
  logPath: `/l/${taskId}.log`,
  errLogPath: `/l/${taskId}.err.log`,
  exitPath: `/l/${taskId}.exit`,
  promptPath: `/l/${taskId}.prompt.md`,
  timeoutMinutes: 10,
  ...over,
});

describe("run time limits", () => {
  it("a run is due at its limit counted from its recorded start, not before", () => {
    expect(overdueRuns([run(1)], 10 * MIN - 1)).toEqual([]);
    expect(overdueRuns([run(1)], 10 * MIN).map((r) => r.taskId)).toEqual([1]);
    expect(overdueRuns([run(2, { timeoutMinutes: undefined })], 1000 * MIN)).toEqual([]);
  });

  it("a time-out stop cut short by a restart is due again; a finished stop or another kind of stop is not", () => {
    const cutShort = run(3, { stopReason: "agent timed out after 10 min", stopKind: "timed_out" });
    const done = run(4, { stopReason: "agent timed out after 10 min", stopKind: "timed_out", stoppedWith: "SIGKILL" });
    const cancelled = run(5, { stopReason: "cancelled by operator", stopKind: "cancelled" });
    expect(overdueRuns([cutShort, done, cancelled], 11 * MIN).map((r) => r.taskId)).toEqual([3]);
  });
});

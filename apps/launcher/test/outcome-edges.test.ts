import { describe, expect, it } from "vitest";
import type { ExitRecord, LaunchRecord } from "../src/launch.ts";
import { classifyOutcome, type OutcomeContext } from "../src/outcome.ts";

// The outcome cases outcome.test.ts leaves open (found by pnpm test:mutation):
// a stopped run whose wrapper left no exit record, and the "null" spellings of
// a missing code or signal in the failure reasons.
const STARTED_AT = 1_800_000_000_000;
const record: LaunchRecord = {
  taskId: 7,
  attempt: 1,
  slug: "codex",
  pid: 99,
  startedAt: STARTED_AT,
  command: ["codex"],
  logPath: "/logs/7.log",
  errLogPath: "/logs/7.err.log",
  exitPath: "/logs/7.exit",
  promptPath: "/logs/7.prompt.md",
};
const context: OutcomeContext = { earlyExitMs: 10_000, now: STARTED_AT + 30_000, readTail: () => "tail" };
const exitAfter = (ms: number, code: number | null, signal: string | null): ExitRecord => ({ code, signal, started_at: STARTED_AT, ended_at: STARTED_AT + ms });

describe("run outcome: edges", () => {
  it("a stopped run without an exit record reports the signal the launcher sent, or null", () => {
    expect(classifyOutcome({ ...record, stopReason: "cancelled by operator", stoppedWith: "SIGKILL" }, undefined, context)).toEqual({
      kind: "failed",
      payload: { duration_ms: 30_000, reason: "cancelled by operator: agent stopped (signal=SIGKILL)", exit_code: null, signal: "SIGKILL", evidence: "Logs: /logs/7.log", agent_output: "tail" },
    });
    expect(classifyOutcome({ ...record, stopReason: "task no longer held by this worker" }, undefined, context)).toMatchObject({
      payload: { reason: "task no longer held by this worker: agent stopped (signal=null)", exit_code: null, signal: null },
    });
  });

  it("a stopped run that exited by itself keeps its exit code", () => {
    expect(classifyOutcome({ ...record, stopReason: "cancelled by operator", stoppedWith: "SIGTERM" }, exitAfter(2_000, 143, null), context)).toMatchObject({
      payload: { reason: "cancelled by operator: agent stopped (signal=SIGTERM)", exit_code: 143, signal: "SIGTERM" },
    });
  });

  it("a late failure spells a missing code or signal as null", () => {
    const late = (code: number | null, signal: string | null) => {
      const result = classifyOutcome(record, exitAfter(12_000, code, signal), context);
      return result.kind === "failed" ? result.payload.reason : undefined;
    };
    expect(late(2, null)).toBe("agent process failed (code=2, signal=null) after 12.0s");
    expect(late(null, "SIGSEGV")).toBe("agent process failed (code=null, signal=SIGSEGV) after 12.0s");
  });
});

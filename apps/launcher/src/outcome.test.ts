import { describe, expect, it } from "vitest";
import type { ExitRecord, LaunchRecord } from "./launch.ts";
import { classifyOutcome, type OutcomeContext } from "./outcome.ts";

const STARTED_AT = 1_800_000_000_000;
const record: LaunchRecord = {
  taskId: 41,
  attempt: 2,
  slug: "codex",
  pid: 4242,
  startedAt: STARTED_AT,
  command: ["codex", "exec", "…"],
  logPath: "/logs/41-x.log",
  errLogPath: "/logs/41-x.err.log",
  exitPath: "/logs/41-x.exit",
  promptPath: "/logs/41-x.prompt.md",
};
const exitAfter = (ms: number, code: number | null, signal: string | null = null): ExitRecord => ({
  code,
  signal,
  started_at: STARTED_AT,
  ended_at: STARTED_AT + ms,
});
const tails: Array<[string, number | undefined]> = [];
const context: OutcomeContext = {
  earlyExitMs: 10_000,
  now: STARTED_AT + 60_000,
  readTail: (path, maxBytes) => {
    tails.push([path, maxBytes]);
    return "codex: command not found\n";
  },
};

describe("run outcome", () => {
  it("exit 0 is finished, with its duration and log paths", () => {
    expect(classifyOutcome(record, exitAfter(90_500, 0), context)).toEqual({
      kind: "finished",
      payload: { duration_ms: 90_500, exit_code: 0, log_path: "/logs/41-x.log", err_log_path: "/logs/41-x.err.log" },
    });
  });

  it("a non-zero exit inside OPS_EARLY_EXIT_MS is the runbook's early exit, exactly, with the .err.log tail as agent output", () => {
    expect(classifyOutcome(record, exitAfter(300, 3), context)).toEqual({
      kind: "failed",
      payload: {
        duration_ms: 300,
        reason: "launcher process exited early (code=3, signal=null)",
        evidence: ".err.log: /logs/41-x.err.log",
        agent_output: "codex: command not found\n",
        exit_code: 3,
        signal: null,
      },
    });
    const killed = classifyOutcome(record, exitAfter(9_999, null, "SIGSEGV"), context);
    expect(killed.kind === "failed" && killed.payload.reason).toBe("launcher process exited early (code=null, signal=SIGSEGV)");
  });

  it("a non-zero exit after the window is an agent failure with how long it ran", () => {
    const result = classifyOutcome(record, exitAfter(10_000, 1), context);
    expect(result.kind === "failed" && result.payload.reason).toBe("agent process failed (code=1, signal=null) after 10.0s");
  });

  it("a run the launcher stopped names why and the signal that ended it", () => {
    const cancelled = { ...record, stopReason: "cancelled by operator", stoppedWith: "SIGKILL" };
    expect(classifyOutcome(cancelled, exitAfter(5_000, null, "SIGKILL"), context)).toMatchObject({
      kind: "failed",
      payload: { reason: "cancelled by operator: agent stopped (signal=SIGKILL)", exit_code: null, signal: "SIGKILL", duration_ms: 5_000 },
    });
    // The agent trapped SIGTERM and exited 0 after it: still a stop, not a finish.
    expect(classifyOutcome({ ...cancelled, stoppedWith: "SIGTERM" }, exitAfter(5_000, 0), context)).toMatchObject({
      kind: "failed",
      payload: { reason: "cancelled by operator: agent stopped (signal=SIGTERM)", exit_code: 0 },
    });
    expect(tails.at(-1)).toEqual(["/logs/41-x.err.log", 2000]);
  });

  it("a group gone without an exit record says so, timed until now", () => {
    expect(classifyOutcome(record, undefined, context)).toMatchObject({
      kind: "failed",
      payload: {
        reason: "agent process ended without an exit record (killed with its wrapper, or the log folder became unwritable)",
        exit_code: null,
        signal: null,
        duration_ms: 60_000,
        evidence: "Logs: /logs/41-x.log",
        agent_output: "codex: command not found\n",
      },
    });
  });

  it("an empty .err.log is said to be empty", () => {
    const result = classifyOutcome(record, exitAfter(100, 2), { ...context, readTail: () => "" });
    expect(result.kind === "failed" && result.payload).toMatchObject({ evidence: ".err.log: /logs/41-x.err.log (empty)" });
    expect(result.kind === "failed" && "agent_output" in result.payload).toBe(false);
  });
});

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
    return path.endsWith(".err.log") ? "codex: command not found\n" : "working on it\n";
  },
};
const LOGS = "Logs: /logs/41-x.log, /logs/41-x.err.log";
const BOTH_TAILS =
  "Agent output, last lines of stdout (/logs/41-x.log):\nworking on it\n\nAgent output, last lines of stderr (/logs/41-x.err.log):\ncodex: command not found";

describe("run outcome", () => {
  it("exit 0 is finished, with its duration and log paths", () => {
    expect(classifyOutcome(record, exitAfter(90_500, 0), context)).toEqual({
      kind: "finished",
      payload: { duration_ms: 90_500, exit_code: 0, log_path: "/logs/41-x.log", err_log_path: "/logs/41-x.err.log" },
    });
  });

  it("a non-zero exit inside OPS_EARLY_EXIT_MS is the runbook's early exit, exactly, with both logs' last lines", () => {
    expect(classifyOutcome(record, exitAfter(300, 3), context)).toEqual({
      kind: "failed",
      payload: {
        duration_ms: 300,
        reason: "launcher process exited early (code=3, signal=null)",
        evidence: LOGS,
        agent_output: BOTH_TAILS,
        exit_code: 3,
        signal: null,
        outcome: "early_exit",
        reason_code: "EARLY_EXIT",
        reason_params: { code: 3, signal: null },
      },
    });
    const killed = classifyOutcome(record, exitAfter(9_999, null, "SIGSEGV"), context);
    expect(killed.kind === "failed" && killed.payload.reason).toBe("launcher process exited early (code=null, signal=SIGSEGV)");
  });

  it("a non-zero exit after the window is an agent failure with how long it ran", () => {
    const result = classifyOutcome(record, exitAfter(10_000, 1), context);
    expect(result).toMatchObject({
      kind: "failed",
      payload: { reason: "agent process failed (code=1, signal=null) after 10.0s", outcome: "failed", reason_code: "AGENT_FAILED", reason_params: { code: 1, signal: null, seconds: 10 } },
    });
  });

  it("a run the launcher stopped names why and the signal that ended it", () => {
    const cancelled = { ...record, stopReason: "cancelled by operator", stopKind: "cancelled" as const, stoppedWith: "SIGKILL" };
    expect(classifyOutcome(cancelled, exitAfter(5_000, null, "SIGKILL"), context)).toMatchObject({
      kind: "failed",
      payload: { reason: "cancelled by operator: agent stopped (signal=SIGKILL)", exit_code: null, signal: "SIGKILL", duration_ms: 5_000, outcome: "cancelled", reason_code: "CANCELLED" },
    });
    // The agent trapped SIGTERM and exited 0 after it: still a stop, not a finish.
    expect(classifyOutcome({ ...cancelled, stoppedWith: "SIGTERM" }, exitAfter(5_000, 0), context)).toMatchObject({
      kind: "failed",
      payload: { reason: "cancelled by operator: agent stopped (signal=SIGTERM)", exit_code: 0 },
    });
    expect(tails.slice(-2)).toEqual([
      ["/logs/41-x.log", 2000],
      ["/logs/41-x.err.log", 2000],
    ]);
  });

  it("a run stopped at its time limit says so in the task's words: agent timed out after N min", () => {
    const timedOut = { ...record, timeoutMinutes: 2, stopReason: "agent timed out after 2 min", stopKind: "timed_out" as const, stoppedWith: "SIGTERM" };
    const result = classifyOutcome(timedOut, exitAfter(120_400, null, "SIGTERM"), context);
    expect(result).toMatchObject({
      kind: "failed",
      payload: { reason: "agent timed out after 2 min", outcome: "timed_out", reason_code: "RUN_TIMED_OUT", reason_params: { minutes: 2 }, signal: "SIGTERM" },
    });
    expect(result.kind === "failed" && result.payload.evidence).toContain("agent stopped (signal=SIGTERM) after 120.4s");
  });

  it("a group gone without an exit record says so, timed until now", () => {
    expect(classifyOutcome(record, undefined, context)).toMatchObject({
      kind: "failed",
      payload: {
        reason: "agent process ended without an exit record (killed with its wrapper, or the log folder became unwritable)",
        exit_code: null,
        signal: null,
        duration_ms: 60_000,
        evidence: LOGS,
        agent_output: BOTH_TAILS,
        outcome: "failed",
        reason_code: "NO_EXIT_RECORD",
      },
    });
  });

  it("an agent that printed nothing sends no agent output, only where its logs are", () => {
    const result = classifyOutcome(record, exitAfter(100, 2), { ...context, readTail: () => "" });
    expect(result.kind === "failed" && result.payload.evidence).toBe(LOGS);
    expect(result.kind === "failed" && "agent_output" in result.payload).toBe(false);
  });

  it("one empty stream is said to be empty beside the other", () => {
    const result = classifyOutcome(record, exitAfter(100, 2), { ...context, readTail: (path) => (path.endsWith(".err.log") ? "boom\n" : "") });
    expect(result.kind === "failed" && result.payload.agent_output).toBe(
      "Agent output, last lines of stdout (/logs/41-x.log):\n(empty)\n\nAgent output, last lines of stderr (/logs/41-x.err.log):\nboom",
    );
  });

  it("a failure printed on stdout (claude -p: Not logged in) reaches the agent output, last lines only", () => {
    const stdout = `${"x".repeat(1500)}\n${Array.from({ length: 40 }, (_, i) => `line ${i}`).join("\n")}\nNot logged in · Please run /login\n`;
    const tail = Buffer.from(stdout).subarray(-2000).toString();
    const result = classifyOutcome(record, exitAfter(400, 1), { ...context, readTail: (path) => (path.endsWith(".err.log") ? "" : tail) });
    const evidence = result.kind === "failed" ? result.payload.agent_output! : "";
    expect(evidence).toContain("Agent output, last lines of stdout (/logs/41-x.log):\n");
    expect(evidence).toContain("line 39\nNot logged in · Please run /login\n\nAgent output, last lines of stderr");
    expect(evidence).not.toContain("line 14\n");
    expect(evidence).not.toContain("xxx");
  });
});

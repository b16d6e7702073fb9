import { describe, expect, it } from "vitest";
import type { ExitRecord, LaunchRecord } from "./launch.ts";
import { classifyOutcome, lastLines, type OutcomeContext } from "./outcome.ts";

// What outcome.test.ts leaves implicit: which lines of a log tail are quoted,
// output that is only blank lines, the contract's cap on agent_output, and
// the reason code of each kind of stop the launcher makes.
const STARTED_AT = 1_800_000_000_000;
const record: LaunchRecord = {
  taskId: 9,
  attempt: 1,
  slug: "codex",
  pid: 77,
  startedAt: STARTED_AT,
  command: ["codex"],
  logPath: "/logs/9.log",
  errLogPath: "/logs/9.err.log",
  exitPath: "/logs/9.exit",
  promptPath: "/logs/9.prompt.md",
};
const LOGS = "Logs: /logs/9.log, /logs/9.err.log";
const contextWith = (readTail: OutcomeContext["readTail"]): OutcomeContext => ({ earlyExitMs: 10_000, now: STARTED_AT + 30_000, readTail });
const exitAfter = (ms: number, code: number | null, signal: string | null = null): ExitRecord => ({ code, signal, started_at: STARTED_AT, ended_at: STARTED_AT + ms });
const failed = (result: ReturnType<typeof classifyOutcome>) => {
  if (result.kind !== "failed") throw new Error(`expected a failure, got ${result.kind}`);
  return result.payload;
};

describe("log tails: the last lines quoted", () => {
  it("drops the first line of a tail that filled the read (it may start mid-line), keeps every line of a shorter one", () => {
    expect(lastLines("ab\ncd\n", 6)).toBe("cd");
    expect(lastLines("ab\ncd\n", 7)).toBe("ab\ncd");
    expect(lastLines("ab\ncd", 6)).toBe("ab\ncd");
  });

  it("counts bytes, not characters: a tail cut inside a character is full", () => {
    expect(lastLines("é\nb", 4)).toBe("b");
  });

  it("keeps a single line that filled the read rather than quoting nothing", () => {
    expect(lastLines("abcdef", 6)).toBe("abcdef");
    expect(lastLines("abcdef\n", 7)).toBe("abcdef");
  });

  it("keeps at most the last maxLines lines", () => {
    expect(lastLines("1\n2\n3\n4\n", 100, 2)).toBe("3\n4");
  });
});

describe("run outcome: the agent's output as evidence", () => {
  it("sends no agent output when both logs hold only blank lines", () => {
    const payload = failed(classifyOutcome(record, exitAfter(20_000, 1), contextWith(() => "\n  \n\t\n")));
    expect(payload.evidence).toBe(LOGS);
    expect("agent_output" in payload).toBe(false);
  });

  it("says a log of blank lines is empty beside the other", () => {
    const payload = failed(classifyOutcome(record, exitAfter(20_000, 1), contextWith((path) => (path.endsWith(".err.log") ? "boom\n" : " \n \n"))));
    expect(payload.agent_output).toBe("Agent output, last lines of stdout (/logs/9.log):\n(empty)\n\nAgent output, last lines of stderr (/logs/9.err.log):\nboom");
  });

  it("never sends more agent output than the contract's 20,000 characters", () => {
    const long = `${Array.from({ length: 25 }, (_, i) => `${i}`.padEnd(1000, "x")).join("\n")}\n`;
    const payload = failed(classifyOutcome(record, exitAfter(20_000, 1), contextWith(() => long)));
    expect(payload.agent_output).toHaveLength(20_000);
    expect(payload.agent_output?.startsWith("Agent output, last lines of stdout (/logs/9.log):\n")).toBe(true);
  });
});

describe("run outcome: stops the launcher made", () => {
  const context = contextWith(() => "");

  it("a stop with no signal sent and no exit record says signal=null in its evidence", () => {
    const payload = failed(classifyOutcome({ ...record, stopReason: "task no longer held by this worker", stopKind: "not_held" }, undefined, context));
    expect(payload).toMatchObject({
      reason: "task no longer held by this worker: agent stopped (signal=null)",
      evidence: `agent stopped (signal=null) after 30.0s. ${LOGS}`,
      outcome: "cancelled",
      reason_code: "NOT_HELD",
      reason_params: { signal: null },
    });
  });

  it("an operator's cancel of a run that had a time limit is a cancel, not a time-out", () => {
    const cancelled = { ...record, timeoutMinutes: 5, stopReason: "cancelled by operator", stopKind: "cancelled" as const, stoppedWith: "SIGTERM" };
    expect(failed(classifyOutcome(cancelled, exitAfter(4_000, null, "SIGTERM"), context))).toMatchObject({
      reason: "cancelled by operator: agent stopped (signal=SIGTERM)",
      outcome: "cancelled",
      reason_code: "CANCELLED",
      reason_params: { signal: "SIGTERM" },
    });
  });

  it("a time-out recorded without its limit (an older state file) says the stop reason, never `undefined min`", () => {
    const timedOut = { ...record, stopReason: "agent timed out after 2 min", stopKind: "timed_out" as const, stoppedWith: "SIGTERM" };
    const payload = failed(classifyOutcome(timedOut, exitAfter(120_000, null, "SIGTERM"), context));
    expect(payload.reason).toBe("agent timed out after 2 min: agent stopped (signal=SIGTERM)");
    expect(JSON.stringify(payload)).not.toContain("undefined");
  });
});

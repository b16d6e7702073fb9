import type { ExitRecord, LaunchRecord } from "./launch.ts";
import type { Report } from "./reports.ts";
import { timedOutReason } from "./run-timer.ts";

/** The runbook's failure signature for an agent that died soon after its start, exactly. */
export const earlyExitReason = (code: number | null, signal: string | null) =>
  `launcher process exited early (code=${code ?? "null"}, signal=${signal ?? "null"})`;

/** How much of each log the blocker entry quotes. */
const TAIL_BYTES = 2000;
const TAIL_LINES = 25;
/** The contract's cap on `agent_output`. */
const AGENT_OUTPUT_MAX = 20_000;

export interface OutcomeContext {
  /** A non-zero exit sooner than this after the start is an early exit (OPS_EARLY_EXIT_MS). */
  earlyExitMs: number;
  /** Now, in ms since the epoch: the end of a run that left no exit record. */
  now: number;
  /** The last bytes of a log file, credentials already replaced ("" when unreadable). */
  readTail(path: string, maxBytes?: number): string;
}

/** The last lines of a tail; a first line cut in the middle is dropped. */
export function lastLines(tail: string, maxBytes = TAIL_BYTES, maxLines = TAIL_LINES): string {
  let lines = tail.replace(/\n$/, "").split("\n");
  if (Buffer.byteLength(tail) >= maxBytes && lines.length > 1) lines = lines.slice(1);
  return lines.slice(-maxLines).join("\n");
}

/**
 * What a failed run's agent printed: the last lines of both stdout and stderr.
 * CLIs do not agree on where a failure goes: `claude -p` prints "Not logged in
 * · Please run /login" on stdout. Sent as `agent_output`, which the API keeps
 * as agent output beside the blocker (never in the launcher's words), so the
 * next attempt's prompt quotes it as untrusted.
 */
export function agentOutputEvidence(record: Pick<LaunchRecord, "logPath" | "errLogPath">, readTail: OutcomeContext["readTail"]): string {
  const streams = [
    ["stdout", record.logPath],
    ["stderr", record.errLogPath],
  ].map(([stream, path]) => ({ stream, path, lines: lastLines(readTail(path!, TAIL_BYTES)) }));
  if (streams.every((s) => !s.lines.trim())) return "";
  return streams.map((s) => `Agent output, last lines of ${s.stream} (${s.path}):\n${s.lines.trim() ? s.lines : "(empty)"}`).join("\n\n");
}

/**
 * How a run ended, as the report to send: exit 0 is `finished`; a stop the
 * launcher made (time limit, operator cancel, lost claim) names its reason and
 * signal; a group gone without an exit record says so; a non-zero exit within
 * OPS_EARLY_EXIT_MS is the runbook's `launcher process exited early (...)`, a
 * later one `agent process failed (...) after Ns`. Every failure carries the
 * last lines of the agent's stdout and stderr as agent output, its outcome
 * and reason code.
 */
export function classifyOutcome(record: LaunchRecord, exit: ExitRecord | undefined, context: OutcomeContext): Report {
  const duration_ms = Math.max(0, (exit?.ended_at ?? context.now) - record.startedAt);
  const logs = `Logs: ${record.logPath}, ${record.errLogPath}`;
  const agentOutput = () => {
    const text = agentOutputEvidence(record, context.readTail);
    return text ? { agent_output: text.slice(0, AGENT_OUTPUT_MAX) } : {};
  };
  if (record.stopReason) {
    const signal = exit?.signal ?? record.stoppedWith ?? null;
    const stopped = `agent stopped (signal=${signal ?? "null"}) after ${(duration_ms / 1000).toFixed(1)}s`;
    const common = { duration_ms, exit_code: exit?.code ?? null, signal, evidence: `${stopped}. ${logs}`, ...agentOutput() };
    if (record.stopKind === "timed_out" && record.timeoutMinutes !== undefined) {
      return {
        kind: "failed",
        payload: { ...common, reason: timedOutReason(record.timeoutMinutes), outcome: "timed_out", reason_code: "RUN_TIMED_OUT", reason_params: { minutes: record.timeoutMinutes } },
      };
    }
    return {
      kind: "failed",
      payload: {
        ...common,
        reason: `${record.stopReason}: agent stopped (signal=${signal ?? "null"})`,
        outcome: "cancelled",
        reason_code: record.stopKind === "cancelled" ? "CANCELLED" : "NOT_HELD",
        reason_params: { signal },
      },
    };
  }
  if (!exit) {
    return {
      kind: "failed",
      payload: {
        duration_ms,
        reason: "agent process ended without an exit record (killed with its wrapper, or the log folder became unwritable)",
        exit_code: null,
        signal: null,
        evidence: logs,
        ...agentOutput(),
        outcome: "failed",
        reason_code: "NO_EXIT_RECORD",
      },
    };
  }
  if (exit.code === 0) {
    return { kind: "finished", payload: { duration_ms, exit_code: 0, log_path: record.logPath, err_log_path: record.errLogPath } };
  }
  const seconds = (duration_ms / 1000).toFixed(1);
  const early = duration_ms < context.earlyExitMs;
  return {
    kind: "failed",
    payload: {
      duration_ms,
      reason: early ? earlyExitReason(exit.code, exit.signal) : `agent process failed (code=${exit.code ?? "null"}, signal=${exit.signal ?? "null"}) after ${seconds}s`,
      evidence: logs,
      ...agentOutput(),
      exit_code: exit.code,
      signal: exit.signal,
      outcome: early ? "early_exit" : "failed",
      reason_code: early ? "EARLY_EXIT" : "AGENT_FAILED",
      reason_params: { code: exit.code, signal: exit.signal, ...(early ? {} : { seconds: Number(seconds) }) },
    },
  };
}

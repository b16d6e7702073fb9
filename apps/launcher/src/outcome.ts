import type { ExitRecord, LaunchRecord } from "./launch.ts";
import type { Report } from "./reports.ts";

/** The runbook's failure signature for an agent that died soon after its start, exactly. */
export const earlyExitReason = (code: number | null, signal: string | null) =>
  `launcher process exited early (code=${code ?? "null"}, signal=${signal ?? "null"})`;

export interface OutcomeContext {
  /** A non-zero exit sooner than this after the start is an early exit (OPS_EARLY_EXIT_MS). */
  earlyExitMs: number;
  /** Now, in ms since the epoch: the end of a run that left no exit record. */
  now: number;
  /** The last bytes of a log file, for evidence ("" when unreadable). */
  readTail(path: string, maxBytes?: number): string;
}

/**
 * What the agent printed, for `agent_output`: its words, which the API keeps
 * as agent output apart from the launcher's reason and evidence, so the next
 * attempt's prompt never presents them as the launcher's.
 */
const agentOutput = (tail: string) => (tail ? { agent_output: tail } : {});

/**
 * How a run ended, as the report to send: exit 0 is `finished`; a stop the
 * launcher made (operator cancel, lost claim) names its reason and signal; a
 * group gone without an exit record says so; a non-zero exit within
 * OPS_EARLY_EXIT_MS is the runbook's `launcher process exited early (...)`,
 * a later one `agent process failed (...) after Ns`, each with the .err.log
 * tail as agent output.
 */
export function classifyOutcome(record: LaunchRecord, exit: ExitRecord | undefined, context: OutcomeContext): Report {
  const duration_ms = Math.max(0, (exit?.ended_at ?? context.now) - record.startedAt);
  if (record.stopReason) {
    const signal = exit?.signal ?? record.stoppedWith ?? null;
    return {
      kind: "failed",
      payload: {
        duration_ms,
        reason: `${record.stopReason}: agent stopped (signal=${signal ?? "null"})`,
        exit_code: exit?.code ?? null,
        signal,
        evidence: `Logs: ${record.logPath}`,
        ...agentOutput(context.readTail(record.errLogPath, 2000)),
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
        evidence: `Logs: ${record.logPath}`,
        ...agentOutput(context.readTail(record.errLogPath)),
      },
    };
  }
  if (exit.code === 0) {
    return { kind: "finished", payload: { duration_ms, exit_code: 0, log_path: record.logPath, err_log_path: record.errLogPath } };
  }
  const reason =
    duration_ms < context.earlyExitMs
      ? earlyExitReason(exit.code, exit.signal)
      : `agent process failed (code=${exit.code ?? "null"}, signal=${exit.signal ?? "null"}) after ${(duration_ms / 1000).toFixed(1)}s`;
  const tail = context.readTail(record.errLogPath);
  return {
    kind: "failed",
    payload: {
      duration_ms,
      reason,
      evidence: `.err.log: ${record.errLogPath}${tail ? "" : " (empty)"}`,
      exit_code: exit.code,
      signal: exit.signal,
      ...agentOutput(tail),
    },
  };
}

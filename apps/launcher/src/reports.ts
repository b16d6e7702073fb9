import type { AppRouter } from "@ops/contract";
import type { inferRouterInputs } from "@trpc/server";
import type { LaunchRecord } from "./launch.ts";

type DispatchInputs = inferRouterInputs<AppRouter>["dispatch"];
/** The claim fence (task, worker, attempt) every report carries; the outbox adds it when sending. */
type Fence = "id" | "worker_id" | "attempt";

export type StartedReport = Omit<DispatchInputs["started"], Fence>;
export type FailedReport = Omit<DispatchInputs["failed"], Fence>;
export type FinishedReport = Omit<DispatchInputs["finished"], Fence>;

/** What the launcher tells the API about a run, typed by the contract's inputs. */
export type Report = { kind: "started"; payload: StartedReport } | { kind: "failed"; payload: FailedReport } | { kind: "finished"; payload: FinishedReport };
/** A report about one claim. */
export type ClaimReport = Report & { taskId: number; attempt: number };
/** A report not through yet (API down or restarting): kept in the state file and retried with back-off. */
export type PendingReport = ClaimReport & { tries: number; nextAt: number };

/** The contract accepts at most this many argv elements in a started report. */
const MAX_REPORTED_ARGS = 200;

/** The started report of a run: its pid (the process-group id), argv and log paths. */
export function startedReportOf(record: LaunchRecord): ClaimReport {
  return {
    kind: "started",
    taskId: record.taskId,
    attempt: record.attempt,
    payload: { pid: record.pid, command: record.command.slice(0, MAX_REPORTED_ARGS), log_path: record.logPath, err_log_path: record.errLogPath },
  };
}

import { z } from "zod";
import { isoDate, nullableDate } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId, ZWorkerId } from "../schemas.ts";
import { ZMessageParams } from "../messages.ts";

/*
 * Runs: every claim attempt of a task, written by the statements that move
 * the task (claim, started, failed, finished, the watchdog), and the output
 * its launcher streams while the agent runs.
 */

/**
 * How a run ended. `review`: exit 0; `failed`: a non-zero exit or a launch
 * refused on the worker; `early_exit`: the runbook's "launcher process exited
 * early"; `timed_out`: stopped at its time limit; `cancelled`: stopped on an
 * operator's cancel (or its claim went elsewhere); `lost`: reconciled by the
 * watchdog; `refused`: its launcher reported after the claim had moved on.
 * A run without an outcome is still in flight.
 */
export const RUN_OUTCOMES = ["review", "failed", "early_exit", "timed_out", "cancelled", "lost", "refused"] as const;
export const ZRunOutcome = z.enum(RUN_OUTCOMES);
export type TRunOutcome = z.infer<typeof ZRunOutcome>;
/** The outcomes a launcher's failure report may claim (the rest are the API's to decide). */
export const FAILED_RUN_OUTCOMES = ["failed", "early_exit", "timed_out", "cancelled"] as const satisfies readonly TRunOutcome[];

/**
 * Stable codes of why a run ended, with the params each message is built
 * from; the English text goes beside them (`reason`).
 */
export const RUN_REASON_CODES = {
  RUNTIME_MISSING: "the agent's CLI is not installed on the worker ({cli})",
  LAUNCH_REFUSED: "the worker could not start the agent",
  PROGRAM_NOT_ALLOWED: "the agent's launch_command names a program this worker does not allow (OPS_ALLOWED_PROGRAMS)",
  WORKDIR_NOT_ALLOWED: "the working folder is not under this worker's OPS_WORKDIR_ROOTS",
  EARLY_EXIT: "the agent exited soon after its start (code={code}, signal={signal})",
  AGENT_FAILED: "the agent exited with code={code}, signal={signal} after {seconds}s",
  NO_EXIT_RECORD: "the agent ended without an exit record",
  RUN_TIMED_OUT: "agent timed out after {minutes} min",
  CANCELLED: "cancelled by an operator",
  NOT_HELD: "the task was no longer held by this worker",
  STALE_REPORT: "the launcher reported after the claim had moved on",
} as const;
export type TRunReasonCode = keyof typeof RUN_REASON_CODES;

export const OUTPUT_STREAMS = ["stdout", "stderr"] as const;
export const ZOutputStream = z.enum(OUTPUT_STREAMS);
export type TOutputStream = z.infer<typeof ZOutputStream>;

/** The most raw bytes of a log file one uploaded chunk covers. */
export const MAX_OUTPUT_CHUNK_BYTES = 64 * 1024;
/** Chunks per upload request (one request carries every run of a launcher). */
export const MAX_OUTPUT_CHUNKS_PER_UPLOAD = 200;

export const ZRun = z.object({
  id: z.number(),
  task_id: z.number(),
  attempt: z.number(),
  worker_id: z.string(),
  agent_slug: z.string().nullable(),
  model: z.string().nullable(),
  command: z.array(z.string()).nullable(),
  pid: z.number().nullable(),
  claimed_at: isoDate,
  started_at: nullableDate,
  ended_at: nullableDate,
  exit_code: z.number().nullable(),
  signal: z.string().nullable(),
  duration_ms: z.number().nullable(),
  ai_minutes: z.number().nullable(),
  outcome: ZRunOutcome.nullable(),
  reason: z.string().nullable(),
  reason_code: z.string().nullable(),
  reason_params: ZMessageParams.nullable(),
  log_path: z.string().nullable(),
  err_log_path: z.string().nullable(),
  /** The time limit in force for this run, in minutes (task, agent, then the setting). */
  timeout_minutes: z.number().nullable(),
  output: z.object({
    /** Raw bytes of each log file the API has received (the launcher's acknowledged offsets). */
    stdout_bytes: z.number(),
    stderr_bytes: z.number(),
    /** Each log file's final size, as the launcher reported it with the outcome (null until then). */
    stdout_total: z.number().nullable(),
    stderr_total: z.number().nullable(),
    /** Bytes of (redacted) output kept in the database, and whether some were dropped between head and tail. */
    kept_bytes: z.number(),
    truncated: z.boolean(),
    /** The retention setting removed it. */
    pruned: z.boolean(),
    /** Nothing more will arrive: the run ended and its launcher sent everything (or never will). */
    done: z.boolean(),
  }),
});
export type TRun = z.infer<typeof ZRun>;

export const OUTPUT_CHUNK_KINDS = [...OUTPUT_STREAMS, "truncated"] as const;
/** A piece of kept output; `truncated` marks where output between the head and the tail was dropped. */
export const ZOutputChunk = z.object({
  stream: z.enum(OUTPUT_CHUNK_KINDS),
  /** Position of the chunk in the run's kept output, in bytes of UTF-8 text. */
  offset: z.number(),
  text: z.string(),
});
export type TOutputChunk = z.infer<typeof ZOutputChunk>;

export const ZRunOutput = z.object({
  task_id: z.number(),
  run_id: z.number(),
  chunks: z.array(ZOutputChunk),
  /** Ask again from here for what comes next. */
  next_offset: z.number(),
  truncated: z.boolean(),
  pruned: z.boolean(),
  done: z.boolean(),
});
export type TRunOutput = z.infer<typeof ZRunOutput>;

export const ZOutputUploadChunk = z.object({
  id: ZId,
  attempt: z.number().int().min(1),
  stream: ZOutputStream,
  /** Where the chunk starts in the agent's log file, in raw bytes. */
  offset: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** How many raw bytes of the file it covers. */
  length: z.number().int().min(1).max(MAX_OUTPUT_CHUNK_BYTES),
  /** Those bytes as text, with the credentials the launcher knows replaced by ***. */
  text: z.string().max(MAX_OUTPUT_CHUNK_BYTES),
});
export type TOutputUploadChunk = z.infer<typeof ZOutputUploadChunk>;

/**
 * What became of one uploaded chunk. `stored`; `seen`: already had it (a
 * retry); `resync`: it does not start where the API's copy ends — send from
 * `next_offset`; `refused`: the run is not this worker's current claim (a
 * stale attempt) or its output was pruned — stop sending it.
 */
export const ZOutputUploadResult = z.object({
  id: z.number(),
  attempt: z.number(),
  stream: ZOutputStream,
  status: z.enum(["stored", "seen", "resync", "refused"]),
  next_offset: z.number().nullable(),
});
export type TOutputUploadResult = z.infer<typeof ZOutputUploadResult>;

const byRun = z.object({ id: ZId, run: ZId });

/** The kept output as plain text, for curl: `?format=text`. */
function outputAsText(output: TRunOutput) {
  return {
    body: output.chunks.map((c) => c.text).join(""),
    headers: { "x-ops-next-offset": String(output.next_offset), "x-ops-output-done": String(output.done) },
  };
}

export const runsContract = {
  list: query({
    path: "/tasks/{id}/runs",
    access: "user",
    summary: "The runs of a task (one per claim attempt), newest first.",
    input: z.object({ id: ZId, limit: z.coerce.number().int().min(1).max(500).default(50) }),
    output: z.array(ZRun),
  }),
  get: query({
    path: "/tasks/{id}/runs/{run}",
    access: "user",
    summary: "One run of a task: worker, command, times, exit, outcome and reason, output counts.",
    input: byRun,
    output: ZRun,
  }),
  output: query({
    path: "/tasks/{id}/runs/{run}/output",
    access: "user",
    summary:
      "A run's kept output from `offset` on (stdout and stderr in arrival order, credentials redacted); `?format=text` answers plain text with the next offset in X-OPS-Next-Offset.",
    input: byRun.extend({
      offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).default(0),
      limit_kb: z.coerce.number().int().min(1).max(1_048_576).default(1024),
      format: z.enum(["json", "text"]).optional(),
    }),
    output: ZRunOutput,
    text: outputAsText,
  }),
  upload: mutation({
    method: "POST",
    path: "/dispatch/output",
    access: "worker",
    summary:
      "Launcher: chunks of its agents' stdout/stderr by byte offset (idempotent; each fenced by the run's claim).",
    input: z.object({
      worker_id: ZWorkerId,
      chunks: z.array(ZOutputUploadChunk).min(1).max(MAX_OUTPUT_CHUNKS_PER_UPLOAD),
    }),
    output: z.object({ results: z.array(ZOutputUploadResult) }),
  }),
};

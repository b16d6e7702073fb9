import type { TMessageParams, TOutputChunk, TRun, TRunOutcome, TRunOutput } from "@ops/contract";
import { type Db, queryRows, type TaskRunRow, taskRuns } from "@ops/db";
import { and, desc, eq, sql } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";
import { notFound } from "../errors.ts";
import { getTaskFor } from "./task-rows.ts";

// Reading a task's runs and their output: whoever may read the task (members
// of its workspace, instance admins, the service token); another workspace's
// task is a 404, as the task itself is.

const iso = (d: Date | null) => (d === null ? null : d.toISOString());

/** Outcomes after which nothing more of a run's output is accepted. */
const CLOSED_OUTCOMES: readonly TRunOutcome[] = ["lost", "refused"];

/** Whether every byte the launcher will send has arrived (or none ever will). */
export function outputDone(run: Pick<TaskRunRow, "endedAt" | "outcome" | "outputPrunedAt" | "stdoutBytes" | "stderrBytes" | "stdoutTotal" | "stderrTotal">): boolean {
  if (run.endedAt === null) return false;
  if ((run.outcome && CLOSED_OUTCOMES.includes(run.outcome)) || run.outputPrunedAt !== null) return true;
  return (run.stdoutTotal === null || run.stdoutBytes >= run.stdoutTotal) && (run.stderrTotal === null || run.stderrBytes >= run.stderrTotal);
}

export function toRunDto(row: TaskRunRow): TRun {
  return {
    id: row.id,
    task_id: row.taskId,
    attempt: row.attempt,
    worker_id: row.workerId,
    agent_slug: row.agentSlug,
    model: row.model,
    command: row.command ?? null,
    pid: row.pid,
    claimed_at: row.claimedAt.toISOString(),
    started_at: iso(row.startedAt),
    ended_at: iso(row.endedAt),
    exit_code: row.exitCode,
    signal: row.signal,
    duration_ms: row.durationMs,
    ai_minutes: row.aiMinutes,
    outcome: row.outcome,
    reason: row.reason,
    reason_code: row.reasonCode,
    reason_params: (row.reasonParams as TMessageParams | null) ?? null,
    log_path: row.logPath,
    err_log_path: row.errLogPath,
    timeout_minutes: row.timeoutMinutes,
    output: {
      stdout_bytes: row.stdoutBytes,
      stderr_bytes: row.stderrBytes,
      stdout_total: row.stdoutTotal,
      stderr_total: row.stderrTotal,
      kept_bytes: row.keptBytes,
      truncated: row.droppedBytes > 0,
      pruned: row.outputPrunedAt !== null,
      done: outputDone(row),
    },
  };
}

export async function listRuns(db: Db, principal: Principal, taskId: number, limit: number): Promise<TRun[]> {
  await getTaskFor(db, principal, taskId);
  const rows = await db.select().from(taskRuns).where(eq(taskRuns.taskId, taskId)).orderBy(desc(taskRuns.attempt)).limit(limit);
  return rows.map(toRunDto);
}

async function loadRun(db: Db, principal: Principal, taskId: number, runId: number): Promise<TaskRunRow> {
  await getTaskFor(db, principal, taskId);
  const [row] = await db.select().from(taskRuns).where(and(eq(taskRuns.id, runId), eq(taskRuns.taskId, taskId)));
  if (!row) throw notFound(`run ${runId} of task ${taskId}`);
  return row;
}

export async function getRun(db: Db, principal: Principal, taskId: number, runId: number): Promise<TRun> {
  return toRunDto(await loadRun(db, principal, taskId, runId));
}

/** How a dropped stretch reads where the head ends and the kept tail begins. */
export const truncatedMarker = (bytes: number) =>
  `\n[… ${bytes} bytes of output not kept here: each run keeps its first and last run_output_max_kb / 2 …]\n`;

/**
 * A run's kept output from `offset` (a position in the run's stored text, in
 * UTF-8 bytes), up to about `limitKb`: stdout and stderr in the order they
 * arrived, with a `truncated` marker where the cap dropped output between the
 * head and the tail. `next_offset` is where the caller asks next.
 */
export async function readRunOutput(
  db: Db,
  principal: Principal,
  query: { taskId: number; runId: number; offset: number; limitKb: number },
): Promise<TRunOutput> {
  const run = await loadRun(db, principal, query.taskId, query.runId);
  const limit = query.limitKb * 1024;
  const rows = await queryRows<{ stream: "stdout" | "stderr"; pos: number | string; bytes: number; text: string }>(
    db,
    sql`select stream, pos, bytes, text from task_run_output
        where run_id = ${run.id} and pos + bytes > ${query.offset}
        order by pos limit ${Math.max(256, Math.ceil(limit / 1024))}`,
  );
  const chunks: TOutputChunk[] = [];
  let at = Math.min(query.offset, run.outputBytes);
  let sent = 0;
  for (const row of rows) {
    const pos = Number(row.pos);
    if (pos > at) chunks.push({ stream: "truncated", offset: at, text: truncatedMarker(pos - at) });
    const skip = Math.max(0, at - pos);
    const text = skip > 0 ? Buffer.from(row.text, "utf8").subarray(skip).toString("utf8") : row.text;
    chunks.push({ stream: row.stream, offset: pos + skip, text });
    at = pos + row.bytes;
    sent += row.bytes - skip;
    if (sent >= limit) break;
  }
  return {
    task_id: run.taskId,
    run_id: run.id,
    chunks,
    next_offset: at,
    truncated: run.droppedBytes > 0,
    pruned: run.outputPrunedAt !== null,
    done: outputDone(run) && (run.outputPrunedAt !== null || at >= run.outputBytes),
  };
}

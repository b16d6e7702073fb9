import { type Contract, IN_FLIGHT_STATUSES, type ProcedureInput, type TTask } from "@ops/contract";
import { type Db, queryPrepared } from "@ops/db";
import { sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { resolveAlertsAnsweredBySuccess } from "../domain/alerts.ts";
import { blockAfterFailure, minutesOf } from "../domain/dispatch-failure.ts";
import { toTaskDto } from "../domain/serialize.ts";
import { readDispatchSettings } from "../domain/settings.ts";
import { taskFromRaw } from "../domain/task-rows.ts";
import { OpsError } from "../errors.ts";
import { fenceSql, type Pool, refuseReport } from "./fence.ts";

// The launcher's three reports on a claimed task. Each changes the task in one
// fenced UPDATE (fence.ts): a report for a claim the worker no longer holds
// changes nothing and is refused with STALE_CLAIM.

/**
 * started → doing. One statement: the fenced UPDATE (its WHERE is the claim
 * fence, re-checked under the row lock), the launch comment and the task as it
 * now is. (Measured with `pnpm bench`: the transaction it replaces took six
 * round trips.)
 */
export async function reportStarted(
  db: Db,
  input: ProcedureInput<Contract["dispatch"]["started"]>,
  pool: Pool = null,
): Promise<TTask> {
  const output = {
    worker_id: input.worker_id,
    attempt: input.attempt,
    pid: input.pid,
    command: input.command,
    log_path: input.log_path,
    err_log_path: input.err_log_path,
    started_at: new Date().toISOString(),
  };
  const body = `Launched pid ${input.pid} on ${input.worker_id} (attempt ${input.attempt}). Logs: ${input.log_path}, ${input.err_log_path}`;
  const [row] = await queryPrepared<Record<string, unknown>>(
    db,
    sql`with upd as (
          update tasks set status = 'doing', started_at = now(), dispatch_output = ${JSON.stringify(output)}::jsonb, updated_at = now()
          where ${fenceSql(input, ["dispatching"], pool)}
          returning tasks.*
        ), comment as (
          insert into task_comments (task_id, author, kind, body)
          select upd.id, ${`launcher:${input.worker_id}`}, 'ai-dispatch-log', ${body} from upd
        )
        select upd.*, a.slug as agent_slug from upd left join agents a on a.id = upd.agent_id`,
  );
  if (!row) return refuseReport(db, input, pool);
  return toTaskDto(taskFromRaw(row));
}

/**
 * failed → waiting, blocked with the launcher's reason (dispatch-failure.ts),
 * in one transaction whose first statement is the fenced UPDATE.
 */
export async function reportFailed(
  db: Db,
  input: ProcedureInput<Contract["dispatch"]["failed"]>,
  pool: Pool = null,
): Promise<TTask> {
  const settings = await readDispatchSettings(db);
  return db.transaction(async (tx) => {
    const task = await blockAfterFailure(tx, fenceSql(input, IN_FLIGHT_STATUSES, pool), {
      reason: input.reason,
      evidence: input.evidence,
      agentOutput: input.agent_output,
      actor: `worker:${input.worker_id}`,
      source: "launcher",
      alertKind: "dispatch_failed",
      aiMinutes: input.ai_minutes ?? minutesOf(input.duration_ms),
      dispatchOutput: {
        error: input.reason,
        exit_code: input.exit_code ?? null,
        signal: input.signal ?? null,
        ...(input.duration_ms !== undefined ? { duration_ms: input.duration_ms } : {}),
      },
      failureAlertThreshold: settings.failureAlertThreshold,
    });
    if (!task) return refuseReport(tx, input, pool);
    await audit(tx, {
      actor: `worker:${input.worker_id}`,
      action: "dispatch.failed",
      targetType: "task",
      targetId: input.id,
      details: { reason: input.reason, attempt: input.attempt },
    });
    return toTaskDto(task);
  });
}

/**
 * finished → review, in one statement: the fenced UPDATE, the launcher
 * checkpoint, the AI time log and the revocation of the attempt's task tokens.
 * (Measured with `pnpm bench`: the transaction it replaces took eight round trips.)
 */
export async function reportFinished(
  db: Db,
  input: ProcedureInput<Contract["dispatch"]["finished"]>,
  pool: Pool = null,
): Promise<TTask> {
  if (input.exit_code !== 0) {
    throw new OpsError("VALIDATION", "a non-zero exit is a failure: report it to /failed with the reason", "exit_code");
  }
  const seconds = (input.duration_ms / 1000).toFixed(1);
  const author = `launcher:${input.worker_id}`;
  const checkpoint = `Launcher checkpoint: exit code 0 after ${seconds}s on ${input.worker_id} (attempt ${input.attempt}).${
    input.log_path ? `\nLog: ${input.log_path}` : ""
  }${input.err_log_path ? `\nErrors: ${input.err_log_path}` : ""}`;
  const minutes = input.ai_minutes ?? minutesOf(input.duration_ms);
  const [row] = await queryPrepared<Record<string, unknown>>(
    db,
    sql`with upd as (
          update tasks set status = 'review', finished_at = now(), cancel_requested_at = null, updated_at = now(),
                 dispatch_output = coalesce(dispatch_output, '{}'::jsonb) || ${JSON.stringify({ exit_code: 0, duration_ms: input.duration_ms })}::jsonb
          where ${fenceSql(input, IN_FLIGHT_STATUSES, pool)}
          returning tasks.*
        ), done as (
          select upd.*, a.slug as agent_slug from upd left join agents a on a.id = upd.agent_id
        ), ctx as (
          insert into task_context (task_id, kind, source, author, body)
          select id, 'checkpoint', 'launcher', ${author}, ${checkpoint} from upd
        ), ai_time as (
          insert into time_logs (task_id, source, minutes, note, author)
          select id, 'ai', ${minutes}, 'launcher: ' || coalesce(agent_slug, 'agent') || ' run', ${author} from done
        ), revoke as (
          update task_tokens set revoked_at = now()
          where task_id = ${input.id} and revoked_at is null and exists (select 1 from upd)
        )
        select * from done`,
  );
  if (!row) return refuseReport(db, input, pool);
  // The run the failure alerts were about has now succeeded: they are answered.
  await resolveAlertsAnsweredBySuccess(db, input.id, input.worker_id);
  return toTaskDto(taskFromRaw(row));
}

import type { TOutputUploadChunk, TOutputUploadResult } from "@ops/contract";
import { type Db, queryPrepared, queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { intSetting } from "../domain/settings.ts";

// A launcher streams its agents' stdout and stderr here while they run. Each
// chunk names the raw byte range of the log file it covers; the run records
// how far it has received each stream, and a chunk is stored only when it
// starts exactly there. So a retry after an outage stores nothing twice, a
// gap is never papered over (the answer says where to resume), and the
// launcher's own log files are the buffer until the API has everything.

interface UploadRow {
  ord: number;
  run_id: number | null;
  accepted: boolean | null;
  stream_end: number | string | null;
  kept_bytes: number | string | null;
  cap_kb: number | null;
}

/**
 * Stores what continues each run's output, in one statement for the whole
 * upload: every chunk is fenced by its run (this worker's, the task's current
 * attempt, not lost or refused, output not pruned), locked, checked against
 * the run's received offsets, inserted, and the offsets advanced. Runs over
 * the kept-output cap then lose their oldest tail chunks (trimOutput).
 */
export async function storeOutputChunks(db: Db, workerId: string, chunks: readonly TOutputUploadChunk[]): Promise<TOutputUploadResult[]> {
  // PostgreSQL text cannot hold NUL (launchers replace it already; a hand-made upload might not).
  const input = chunks.map((c, ord) => ({
    ord,
    task_id: c.id,
    attempt: c.attempt,
    stream: c.stream,
    file_offset: c.offset,
    length: c.length,
    body: c.text.replaceAll("\u0000", "\uFFFD"),
  }));
  const rows = await queryPrepared<UploadRow>(
    db,
    sql`with input as (
          select * from jsonb_to_recordset(${JSON.stringify(input)}::jsonb)
            as i(ord int, task_id int, attempt int, stream text, file_offset bigint, length int, body text)
        ), fenced as (
          -- Driven from the upload's own (task, attempt) pairs, each found through
          -- the run's unique index and locked in task order: the plan cannot turn
          -- into a scan of every run, however it was cached.
          select r.id as run_id, r.task_id, r.attempt, r.stdout_bytes, r.stderr_bytes, r.output_bytes,
                 ${intSetting("run_output_max_kb")} as cap_kb
          from (select distinct task_id, attempt from input order by task_id, attempt) k
          cross join lateral (
            select r.* from task_runs r join tasks t on t.id = r.task_id and t.claim_attempt = r.attempt
            where r.task_id = k.task_id and r.attempt = k.attempt and r.worker_id = ${workerId}
              and (r.outcome is null or r.outcome not in ('lost', 'refused')) and r.output_pruned_at is null
            for update of r
          ) r
        ), ordered as (
          select i.*, f.run_id, f.output_bytes, f.cap_kb, octet_length(i.body) as bytes,
                 (case i.stream when 'stdout' then f.stdout_bytes else f.stderr_bytes end)
                   + coalesce(sum(i.length) over (partition by f.run_id, i.stream order by i.ord rows between unbounded preceding and 1 preceding), 0) as expected
          from input i join fenced f on f.task_id = i.task_id and f.attempt = i.attempt
        ), decided as (
          select o.*, bool_and(o.file_offset = o.expected) over (partition by o.run_id, o.stream order by o.ord) as accepted from ordered o
        ), accepted as (
          select d.*, d.output_bytes + sum(d.bytes) over (partition by d.run_id order by d.ord) - d.bytes as pos from decided d where d.accepted
        ), stored as (
          insert into task_run_output (run_id, stream, pos, file_offset, length, bytes, head, text)
          select run_id, stream, pos, file_offset, length, bytes, pos < cap_kb * 512, body from accepted
        ), totals as (
          select run_id, coalesce(sum(length) filter (where stream = 'stdout'), 0) as out_len,
                 coalesce(sum(length) filter (where stream = 'stderr'), 0) as err_len, sum(bytes) as bytes
          from accepted group by run_id
        ), advanced as (
          update task_runs r set stdout_bytes = r.stdout_bytes + x.out_len, stderr_bytes = r.stderr_bytes + x.err_len,
                 output_bytes = r.output_bytes + x.bytes, kept_bytes = r.kept_bytes + x.bytes
          from totals x where r.id = x.run_id
          returning r.id, r.stdout_bytes, r.stderr_bytes, r.kept_bytes
        )
        select i.ord, f.run_id, d.accepted, f.cap_kb,
               case i.stream when 'stdout' then coalesce(a.stdout_bytes, f.stdout_bytes) else coalesce(a.stderr_bytes, f.stderr_bytes) end as stream_end,
               a.kept_bytes
        from input i
        left join fenced f on f.task_id = i.task_id and f.attempt = i.attempt
        left join decided d on d.ord = i.ord
        left join advanced a on a.id = f.run_id
        order by i.ord`,
  );
  const overCap = new Map<number, number>();
  const results = rows.map((row): TOutputUploadResult => {
    const chunk = chunks[Number(row.ord)]!;
    const base = { id: chunk.id, attempt: chunk.attempt, stream: chunk.stream };
    if (row.run_id === null) return { ...base, status: "refused", next_offset: null };
    const kept = Number(row.kept_bytes ?? 0);
    if (row.cap_kb !== null && kept > Number(row.cap_kb) * 1024) overCap.set(Number(row.run_id), kept - Number(row.cap_kb) * 1024);
    if (row.accepted) return { ...base, status: "stored", next_offset: chunk.offset + chunk.length };
    const end = Number(row.stream_end);
    return { ...base, status: chunk.offset + chunk.length <= end ? "seen" : "resync", next_offset: end };
  });
  for (const [runId, excess] of overCap) await trimOutput(db, runId, excess);
  return results;
}

/**
 * Keeps a run's output under the cap: drops its oldest tail chunks (never the
 * head, never the newest) until `excess` bytes are gone. Readers see the gap
 * as a "truncated" marker between the head and what is left of the tail.
 */
export async function trimOutput(db: Db, runId: number, excess: number): Promise<void> {
  await queryRows(
    db,
    sql`with tail as (
          select id, bytes, sum(bytes) over (order by pos) - bytes as before
          from task_run_output where run_id = ${runId} and not head
            and pos < (select max(pos) from task_run_output where run_id = ${runId})
        ), dropped as (
          delete from task_run_output o using tail where o.id = tail.id and tail.before < ${excess} returning o.bytes
        )
        update task_runs set kept_bytes = kept_bytes - (select coalesce(sum(bytes), 0) from dropped),
               dropped_bytes = dropped_bytes + (select coalesce(sum(bytes), 0) from dropped)
        where id = ${runId}`,
  );
}

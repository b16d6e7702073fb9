import { closeSync, openSync, readSync, statSync } from "node:fs";
import {
  MAX_OUTPUT_CHUNK_BYTES,
  MAX_OUTPUT_CHUNKS_PER_UPLOAD,
  type TOutputStream,
  type TOutputUploadChunk,
  type TOutputUploadResult,
} from "@ops/contract";
import { describeError, isRetryable } from "./api.ts";
import { SecretRedactor } from "./redact.ts";
import type { Logger } from "./worker-log.ts";

/** One run's output on its way to the API (kept in the state file). */
export interface StreamedRun {
  taskId: number;
  attempt: number;
  files: Record<TOutputStream, string>;
  /** Raw bytes of each file the API has confirmed: the next chunk starts there. */
  acked: Record<TOutputStream, number>;
  /** Each file's size when the run ended: stream up to there, then forget the run. */
  totals?: Record<TOutputStream, number> | undefined;
  /** The run's task token, redacted from its output. */
  taskToken?: string | undefined;
}

export interface OutputStreamerDeps {
  /** Sends one upload (`runs.upload`); throws what the API answered. */
  upload(chunks: TOutputUploadChunk[]): Promise<TOutputUploadResult[]>;
  log: Logger;
  /** The values to replace with *** (tokens, runtimes' credentials), read at every pass. */
  secrets(): Iterable<string>;
  /** Writes the state file (acknowledged offsets survive a restart; a stale offset only costs a resync). */
  persist(): void;
  /** About how many bytes of JSON text one upload carries (the API's body limit is 1 MiB). */
  maxUploadBytes?: number;
  /** Uploads of fresh output are at least this far apart (a backlog goes out back to back). */
  minIntervalMs?: number;
}

const STREAMS: readonly TOutputStream[] = ["stdout", "stderr"];
const MAX_BACKOFF_MS = 30_000;
// Plus at most one chunk over it, whose text JSON may escape to 6 bytes a byte: under the 1 MiB body limit.
const DEFAULT_MAX_UPLOAD_BYTES = 512 * 1024;
const DEFAULT_MIN_INTERVAL_MS = 500;

/**
 * Streams the agents' stdout and stderr to the API from their log files. The
 * files are the buffer: what the API has confirmed is an offset per file, so
 * an API outage costs nothing but time (the launcher catches up from the
 * offsets when it is back, however much piled up, one bounded upload at a
 * time), and a launcher restart resumes from the offsets in its state file.
 * Every chunk is redacted (redact.ts) and fenced by the run's claim on the API
 * side: a run the API refuses (a stale attempt) is dropped.
 */
export class OutputStreamer {
  private readonly runs = new Map<string, StreamedRun>();
  private sending = false;
  private failures = 0;
  private nextAttemptAt = 0;
  private lastUploadAt = 0;

  constructor(private readonly deps: OutputStreamerDeps) {}

  restore(saved: readonly StreamedRun[]): void {
    for (const run of saved) this.runs.set(keyOf(run), run);
  }

  has(taskId: number, attempt: number): boolean {
    return this.runs.has(keyOf({ taskId, attempt }));
  }

  get entries(): StreamedRun[] {
    return [...this.runs.values()];
  }

  /** Log files whose output is not all with the API yet (log pruning must leave them). */
  get filesInUse(): Set<string> {
    return new Set(this.entries.flatMap((r) => STREAMS.map((s) => r.files[s])));
  }

  /** A run started: stream its two log files from the beginning. */
  track(run: { taskId: number; attempt: number; logPath: string; errLogPath: string; taskToken?: string | undefined }): void {
    const entry: StreamedRun = {
      taskId: run.taskId,
      attempt: run.attempt,
      files: { stdout: run.logPath, stderr: run.errLogPath },
      acked: { stdout: 0, stderr: 0 },
      ...(run.taskToken ? { taskToken: run.taskToken } : {}),
    };
    this.runs.set(keyOf(entry), entry);
    this.deps.persist();
  }

  /** A run ended: its files' sizes now are all there is to send. Answers them, for the outcome report. */
  finish(taskId: number, attempt: number): Record<TOutputStream, number> | undefined {
    const run = this.runs.get(keyOf({ taskId, attempt }));
    if (!run) return undefined;
    run.totals ??= { stdout: sizeOf(run.files.stdout), stderr: sizeOf(run.files.stderr) };
    this.deps.persist();
    return run.totals;
  }

  /** Whether every run's output has been confirmed by the API. */
  get idle(): boolean {
    return this.runs.size === 0;
  }

  /**
   * One upload of what is new in every run's files (called on the supervise
   * tick). While the API fails, waits 1 s, doubling to 30 s, between tries.
   */
  async flush(): Promise<void> {
    const now = Date.now();
    if (this.sending || now < this.nextAttemptAt || now - this.lastUploadAt < (this.deps.minIntervalMs ?? DEFAULT_MIN_INTERVAL_MS)) return;
    this.sending = true;
    try {
      for (let rounds = 0; rounds < 8; rounds++) {
        const chunks = this.collect();
        if (chunks.length === 0) break;
        this.lastUploadAt = Date.now();
        const results = await this.deps.upload(chunks);
        this.apply(results);
        this.failures = 0;
        // A backlog (after an outage) goes out in consecutive uploads; new output waits for the next tick.
        if (!this.backlogged()) break;
      }
      this.forgetFinished();
    } catch (error) {
      this.failures++;
      const wait = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(this.failures - 1, 5));
      this.nextAttemptAt = Date.now() + wait;
      if (!isRetryable(error)) {
        // Not a fence refusal (those come per chunk): a bug or a credential problem. The files keep the output; keep trying, slowly.
        this.nextAttemptAt = Date.now() + MAX_BACKOFF_MS;
        this.deps.log.error({ error: describeError(error) }, "output upload refused; retrying every 30 s");
      } else if (this.failures === 1 || this.failures % 10 === 0) {
        this.deps.log.warn({ error: describeError(error), retry_ms: wait, runs: this.runs.size }, "output upload failed; the log files keep it until the API is back");
      }
    } finally {
      this.sending = false;
    }
  }

  /** The next chunk of each stream with new bytes, within one upload's budget. */
  private collect(): TOutputUploadChunk[] {
    const redactor = new SecretRedactor([...this.deps.secrets(), ...this.entries.flatMap((r) => (r.taskToken ? [r.taskToken] : []))]);
    const budget = this.deps.maxUploadBytes ?? DEFAULT_MAX_UPLOAD_BYTES;
    const chunks: TOutputUploadChunk[] = [];
    let used = 0;
    for (const run of this.runs.values()) {
      for (const stream of STREAMS) {
        if (chunks.length >= MAX_OUTPUT_CHUNKS_PER_UPLOAD || used >= budget) return chunks;
        const path = run.files[stream];
        const size = sizeOf(path);
        const end = run.totals ? Math.min(run.totals[stream], size) : size;
        const from = run.acked[stream];
        if (end < from) {
          // The file shrank under us (truncated by an old logrotate rule): what was sent stays, the rest is gone.
          this.deps.log.warn({ task_id: run.taskId, path, acked: from, size }, "log file shrank; its output stops here");
          if (run.totals) run.totals[stream] = from;
          else run.totals = { stdout: run.acked.stdout, stderr: run.acked.stderr };
          continue;
        }
        if (end === from) continue;
        const want = Math.min(end - from, MAX_OUTPUT_CHUNK_BYTES, budget - used);
        const bytes = readRange(path, from, want);
        if (bytes.length === 0) continue;
        const cut = redactor.cut(bytes, run.totals !== undefined && from + bytes.length >= end);
        if (cut.length === 0) continue;
        chunks.push({ id: run.taskId, attempt: run.attempt, stream, offset: from, length: cut.length, text: cut.text });
        used += JSON.stringify(cut.text).length;
      }
    }
    return chunks;
  }

  private apply(results: readonly TOutputUploadResult[]): void {
    for (const result of results) {
      const run = this.runs.get(keyOf({ taskId: result.id, attempt: result.attempt }));
      if (!run) continue;
      if (result.status === "refused") {
        this.deps.log.warn({ task_id: run.taskId, attempt: run.attempt }, "output refused: the run is no longer this worker's claim");
        this.runs.delete(keyOf(run));
        continue;
      }
      if (result.status === "resync") this.deps.log.info({ task_id: run.taskId, stream: result.stream, from: run.acked[result.stream], to: result.next_offset }, "output resynchronised with the API");
      if (result.next_offset !== null) run.acked[result.stream] = result.next_offset;
    }
    this.deps.persist();
  }

  private backlogged(): boolean {
    return this.entries.some((run) => STREAMS.some((s) => (run.totals ? Math.min(run.totals[s], sizeOf(run.files[s])) : sizeOf(run.files[s])) - run.acked[s] > MAX_OUTPUT_CHUNK_BYTES));
  }

  private forgetFinished(): void {
    let changed = false;
    for (const run of this.entries) {
      if (run.totals && STREAMS.every((s) => run.acked[s] >= run.totals![s])) {
        this.runs.delete(keyOf(run));
        changed = true;
      }
    }
    if (changed) this.deps.persist();
  }
}

const keyOf = (run: { taskId: number; attempt: number }) => `${run.taskId}/${run.attempt}`;

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

function readRange(path: string, from: number, length: number): Buffer {
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    const buffer = Buffer.alloc(length);
    const read = readSync(fd, buffer, 0, length, from);
    return buffer.subarray(0, read);
  } catch {
    return Buffer.alloc(0);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

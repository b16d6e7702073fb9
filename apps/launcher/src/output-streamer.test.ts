import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TOutputUploadChunk, TOutputUploadResult } from "@ops/contract";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { OutputStreamer, type StreamedRun } from "./output-streamer.ts";

const TOKEN = "task-token-0123456789-abcdefghij";

/** The API's side of an upload (dispatch/run-output.ts), in memory: a chunk is stored only where the stream ends. */
class FakeApi {
  readonly stored = new Map<string, string[]>();
  readonly ends = new Map<string, number>();
  readonly refusedRuns = new Set<string>();
  down = false;
  /** Store the next upload, then fail as if the answer was lost on the way back. */
  loseNextAnswer = false;
  uploads = 0;

  async upload(chunks: TOutputUploadChunk[]): Promise<TOutputUploadResult[]> {
    if (this.down) throw new Error("fetch failed: connect ECONNREFUSED");
    this.uploads++;
    const results = chunks.map((c): TOutputUploadResult => {
      const base = { id: c.id, attempt: c.attempt, stream: c.stream };
      if (this.refusedRuns.has(`${c.id}/${c.attempt}`)) return { ...base, status: "refused", next_offset: null };
      const key = `${c.id}/${c.attempt}/${c.stream}`;
      const end = this.ends.get(key) ?? 0;
      if (c.offset !== end) return { ...base, status: c.offset + c.length <= end ? "seen" : "resync", next_offset: end };
      this.stored.set(key, [...(this.stored.get(key) ?? []), c.text]);
      this.ends.set(key, end + c.length);
      return { ...base, status: "stored", next_offset: end + c.length };
    });
    if (this.loseNextAnswer) {
      this.loseNextAnswer = false;
      throw new Error("socket hang up");
    }
    return results;
  }

  text(taskId: number, stream: "stdout" | "stderr", attempt = 1) {
    return (this.stored.get(`${taskId}/${attempt}/${stream}`) ?? []).join("");
  }
}

let dir: string;
let api: FakeApi;
let saved: StreamedRun[];
const files = (taskId: number) => ({ logPath: join(dir, `${taskId}.log`), errLogPath: join(dir, `${taskId}.err.log`) });

function streamer(options: { maxUploadBytes?: number } = {}) {
  const s: OutputStreamer = new OutputStreamer({
    upload: (chunks) => api.upload(chunks),
    log: pino({ level: "silent" }),
    secrets: () => ["service-token-abcdefghijklmnopqrstuvwxyz"],
    persist: () => {
      saved = structuredClone(s.entries);
    },
    minIntervalMs: 0,
    ...options,
  });
  return s;
}

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "ops-streamer-"));
  api = new FakeApi();
  saved = [];
});
afterEach(() => {
  vi.useRealTimers();
  rmSync(dir, { recursive: true, force: true });
});

function start(s: OutputStreamer, taskId: number) {
  const f = files(taskId);
  writeFileSync(f.logPath, "");
  writeFileSync(f.errLogPath, "");
  s.track({ taskId, attempt: 1, ...f, taskToken: TOKEN });
  return f;
}

describe("streaming an agent's output to the API", () => {
  it("sends each stream from its offsets as the files grow, redacted, nothing twice", async () => {
    const s = streamer();
    const f = start(s, 7);
    appendFileSync(f.logPath, "starting\n");
    appendFileSync(f.errLogPath, "warning: slow disk\n");
    await s.flush();
    appendFileSync(f.logPath, `using token ${TOKEN}\n`);
    await s.flush();
    await s.flush();
    expect(api.text(7, "stdout")).toBe("starting\nusing token ***\n");
    expect(api.text(7, "stderr")).toBe("warning: slow disk\n");
    expect(saved[0]!.acked).toEqual({ stdout: 9 + 12 + TOKEN.length + 1, stderr: 19 });
  });

  it("an unreachable API costs nothing but time: the files hold the output and it catches up, in order", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const s = streamer({ maxUploadBytes: 64 * 1024 });
    const f = start(s, 8);
    let written = "";
    const write = (n: number) => {
      for (let i = 0; i < n; i++) {
        const line = `line ${written.length} ${"z".repeat(200)}\n`;
        appendFileSync(f.logPath, line);
        written += line;
      }
    };
    write(10);
    await s.flush();
    api.down = true;
    for (let tick = 0; tick < 20; tick++) {
      write(100);
      vi.setSystemTime(Date.now() + 5000);
      await s.flush();
    }
    api.down = false;
    vi.setSystemTime(Date.now() + 60_000);
    write(5);
    for (let tick = 0; tick < 10 && api.text(8, "stdout").length < written.length; tick++) {
      await s.flush();
      vi.setSystemTime(Date.now() + 1000);
    }
    expect(api.text(8, "stdout")).toBe(written);
  });

  it("an answer lost after the API stored the chunk is retried without duplicating it", async () => {
    vi.useFakeTimers({ toFake: ["Date"] });
    const s = streamer();
    const f = start(s, 9);
    appendFileSync(f.logPath, "one\n");
    api.loseNextAnswer = true;
    await s.flush();
    appendFileSync(f.logPath, "two\n");
    vi.setSystemTime(Date.now() + 5000);
    await s.flush();
    await s.flush();
    expect(api.text(9, "stdout")).toBe("one\ntwo\n");
  });

  it("a restarted launcher resumes from the offsets in its state file", async () => {
    const first = streamer();
    const f = start(first, 10);
    appendFileSync(f.logPath, "before the restart\n");
    await first.flush();
    appendFileSync(f.logPath, "while the launcher was down\n");
    const second = streamer();
    second.restore(structuredClone(saved));
    await second.flush();
    expect(api.text(10, "stdout")).toBe("before the restart\nwhile the launcher was down\n");
  });

  it("keeps a run until everything up to its final sizes is confirmed, then forgets it", async () => {
    const s = streamer();
    const f = start(s, 11);
    appendFileSync(f.logPath, `last words ${TOKEN.slice(0, 12)}`);
    await s.flush();
    // The tail could still be the start of the token: held back while the agent runs.
    expect(api.text(11, "stdout")).toBe("last words ");
    expect(s.finish(11, 1)).toEqual({ stdout: 11 + 12, stderr: 0 });
    await s.flush();
    expect(api.text(11, "stdout")).toBe(`last words ${TOKEN.slice(0, 12)}`);
    expect(s.idle).toBe(true);
    expect(s.filesInUse.size).toBe(0);
  });

  it("drops a run the API refuses (a stale attempt) and keeps streaming the others", async () => {
    const s = streamer();
    const stale = start(s, 12);
    const live = start(s, 13);
    api.refusedRuns.add("12/1");
    appendFileSync(stale.logPath, "zombie\n");
    appendFileSync(live.logPath, "alive\n");
    await s.flush();
    expect(s.entries.map((r) => r.taskId)).toEqual([13]);
    expect(api.text(13, "stdout")).toBe("alive\n");
    expect(api.text(12, "stdout")).toBe("");
  });
});

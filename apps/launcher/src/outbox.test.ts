import { TRPCClientError } from "@trpc/client";
import pino from "pino";
import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ReportOutbox } from "./outbox.ts";
import type { ClaimReport, PendingReport } from "./reports.ts";

/** What the API answers with a code the launcher branches on. */
const apiError = (opsCode: string) => TRPCClientError.from({ error: { message: opsCode, code: -32600, data: { opsCode } } });

const started = (taskId: number, attempt = 1): ClaimReport => ({
  kind: "started",
  taskId,
  attempt,
  payload: { pid: 100 + taskId, command: ["agent"], log_path: `/l/${taskId}.log`, err_log_path: `/l/${taskId}.err.log` },
});
const finished = (taskId: number, attempt = 1): ClaimReport => ({ kind: "finished", taskId, attempt, payload: { exit_code: 0, duration_ms: 1000 } });
const failed = (taskId: number, attempt = 1): ClaimReport => ({ kind: "failed", taskId, attempt, payload: { reason: "launcher process exited early (code=3, signal=null)", duration_ms: 50 } });

function outbox(answer: (report: PendingReport) => Error | undefined) {
  const sent: string[] = [];
  const persisted: string[][] = [];
  const delivered: string[] = [];
  const staleStarts: number[] = [];
  const name = (r: PendingReport) => `${r.kind}:${r.taskId}/${r.attempt}`;
  const box: ReportOutbox = new ReportOutbox({
    send: async (report) => {
      sent.push(name(report));
      const error = answer(report);
      if (error) throw error;
    },
    log: pino({ level: "silent" }),
    persist: () => persisted.push(box.reports.map(name)),
    onDelivered: (report) => delivered.push(name(report)),
    onStaleStart: (taskId) => staleStarts.push(taskId),
  });
  return { box, sent, persisted, delivered, staleStarts, pending: () => box.reports.map(name) };
}

/** `add` starts a flush of its own; the fake API answers at once, so one turn of the event loop sees it through. */
const settle = () => new Promise((resolve) => setImmediate(resolve));

beforeEach(() => vi.useFakeTimers({ toFake: ["Date"], now: 1_800_000_000_000 }));
afterEach(() => vi.useRealTimers());

describe("report outbox", () => {
  it("persists a report before sending it, and drops it once the API took it", async () => {
    const o = outbox(() => undefined);
    o.box.add(finished(7));
    expect(o.persisted[0]).toEqual(["finished:7/1"]);
    await settle();
    expect(o.sent).toEqual(["finished:7/1"]);
    expect(o.delivered).toEqual(["finished:7/1"]);
    expect(o.pending()).toEqual([]);
    expect(o.persisted.at(-1)).toEqual([]);
  });

  it("keeps a report the API could not take and retries it with back-off", async () => {
    let down = true;
    const o = outbox(() => (down ? new Error("fetch failed") : undefined));
    o.box.add(finished(7));
    await settle();
    expect(o.pending()).toEqual(["finished:7/1"]);
    expect(o.box.reports[0]).toMatchObject({ tries: 1, nextAt: Date.now() + 2000 });
    await o.box.flush();
    expect(o.sent).toHaveLength(1);
    vi.setSystemTime(Date.now() + 2000);
    await o.box.flush();
    expect(o.box.reports[0]).toMatchObject({ tries: 2, nextAt: Date.now() + 4000 });
    down = false;
    vi.setSystemTime(Date.now() + 4000);
    await o.box.flush();
    expect(o.sent).toEqual(["finished:7/1", "finished:7/1", "finished:7/1"]);
    expect(o.pending()).toEqual([]);
  });

  it("drops a report refused with STALE_CLAIM: someone else owns the task now", async () => {
    const o = outbox(() => apiError("STALE_CLAIM"));
    o.box.add(failed(7));
    await settle();
    expect(o.pending()).toEqual([]);
    expect(o.delivered).toEqual([]);
    expect(o.staleStarts).toEqual([]);
  });

  it("a started report refused with STALE_CLAIM asks for the run to be stopped", async () => {
    const o = outbox((r) => (r.kind === "started" ? apiError("STALE_CLAIM") : undefined));
    o.box.add(started(7));
    await settle();
    expect(o.staleStarts).toEqual([7]);
    expect(o.pending()).toEqual([]);
  });

  it("drops a report the API refuses for good (a 4xx other than STALE_CLAIM), and retries a 503", async () => {
    const o = outbox((r) => apiError(r.taskId === 1 ? "BAD_REQUEST" : "UNAVAILABLE"));
    o.box.add(failed(1));
    o.box.add(failed(2));
    await settle();
    await o.box.flush();
    expect(o.pending()).toEqual(["failed:2/1"]);
  });

  it("sends the reports of one claim in order: an outcome waits for its started report; other claims do not", async () => {
    let apiDownForStarted = true;
    const o = outbox((r) => (r.kind === "started" && apiDownForStarted ? new Error("fetch failed") : undefined));
    o.box.add(started(7));
    await settle();
    o.box.add(finished(7));
    o.box.add(finished(8));
    o.box.add(started(7, 2));
    await settle();
    // Queued while a flush was out: the next one (the launcher flushes every 250 ms) sends it.
    await o.box.flush();
    expect(o.sent).toEqual(["started:7/1", "finished:8/1", "started:7/2"]);
    apiDownForStarted = false;
    vi.setSystemTime(Date.now() + 2000);
    await o.box.flush();
    expect(o.sent.slice(3)).toEqual(["started:7/1", "finished:7/1", "started:7/2"]);
    expect(o.pending()).toEqual([]);
  });

  it("restores what a previous run left in the state file", async () => {
    const o = outbox(() => undefined);
    o.box.restore([{ ...finished(9), tries: 4, nextAt: 0 }]);
    expect(o.box.has(9, 1, "finished")).toBe(true);
    expect(o.box.has(9, 1, "started")).toBe(false);
    await o.box.flush();
    expect(o.delivered).toEqual(["finished:9/1"]);
  });
});

import type { TOutputUploadChunk } from "@ops/contract";
import { queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { describe, expect, it } from "vitest";
import { AS, opsCodeOf, useInProcessApi } from "../../test/in-process.ts";
import type { Principal } from "../auth/principal.ts";
import { runWatchdogPass } from "../watchdog/reconcile.ts";
import { pruneRunOutput } from "../watchdog/output-retention.ts";

// A run is one claim attempt, written by the statements that move the task;
// its output arrives from the launcher in offset-addressed chunks.

const api = useInProcessApi(async (service) => {
  await service.settings.put({ key: "dispatch_enabled", value: "true" });
});
let seq = 0;

async function claimed(worker: string, extra: { model?: string; run_timeout_minutes?: number } = {}) {
  const task = await api.service.tasks.create({ title: `run task ${++seq}`, execution: "interactive", agent_slug: "hermes", ...extra });
  await api.service.tasks.dispatch({ id: task.id });
  const claim = await api.service.dispatch.next({ worker_id: worker, agent_slugs: ["hermes"] });
  if (!claim.claimed || claim.task.id !== task.id) throw new Error(`expected to claim task ${task.id}`);
  return { id: task.id, attempt: claim.attempt, runId: claim.run_id, timeout: claim.run_timeout_minutes };
}
const started = (c: { id: number; attempt: number }, worker: string) =>
  api.service.dispatch.started({ id: c.id, worker_id: worker, attempt: c.attempt, pid: 4242, command: ["hermes", "chat", "-q", "do it"], log_path: "/l/1.log", err_log_path: "/l/1.err.log" });
const runsOf = (id: number) => api.service.runs.list({ id, limit: 50 });
const chunk = (c: { id: number; attempt: number }, stream: "stdout" | "stderr", offset: number, text: string): TOutputUploadChunk => ({
  id: c.id,
  attempt: c.attempt,
  stream,
  offset,
  length: Buffer.byteLength(text),
  text,
});
const upload = (worker: string, chunks: TOutputUploadChunk[]) => api.service.runs.upload({ worker_id: worker, chunks });
const fullOutput = async (id: number, run: number) => {
  const out = await api.service.runs.output({ id, run, offset: 0, limit_kb: 1_048_576 });
  return out;
};

describe("run history", () => {
  it("the claim opens the run and the reports complete it: started, then finished → review", async () => {
    const c = await claimed("w-hist", { run_timeout_minutes: 7 });
    let [run] = await runsOf(c.id);
    expect(run).toMatchObject({ id: c.runId, attempt: 1, worker_id: "w-hist", agent_slug: "hermes", outcome: null, started_at: null, timeout_minutes: 7 });
    expect(c.timeout).toBe(7);
    await started(c, "w-hist");
    [run] = await runsOf(c.id);
    expect(run).toMatchObject({ pid: 4242, command: ["hermes", "chat", "-q", "do it"], log_path: "/l/1.log", err_log_path: "/l/1.err.log" });
    expect(run!.started_at).not.toBeNull();
    await api.service.dispatch.finished({ id: c.id, worker_id: "w-hist", attempt: c.attempt, exit_code: 0, duration_ms: 125_000, stdout_bytes: 0, stderr_bytes: 0 });
    [run] = await runsOf(c.id);
    expect(run).toMatchObject({ outcome: "review", exit_code: 0, duration_ms: 125_000, ai_minutes: 3, reason: null });
    expect(run!.output.done).toBe(true);
  });

  it("the time limit comes from the task, then the agent, then dispatch_run_timeout_minutes", async () => {
    await api.service.settings.put({ key: "dispatch_run_timeout_minutes", value: "45" });
    expect((await claimed("w-limit")).timeout).toBe(45);
    const [agent] = (await api.service.agents.list({})).filter((a) => a.slug === "hermes");
    await api.service.agents.update({ id: agent!.id, run_timeout_minutes: 30 });
    expect((await claimed("w-limit")).timeout).toBe(30);
    expect((await claimed("w-limit", { run_timeout_minutes: 5 })).timeout).toBe(5);
    await api.service.agents.update({ id: agent!.id, run_timeout_minutes: null });
    await api.service.settings.put({ key: "dispatch_run_timeout_minutes", value: "120" });
  });

  it("a failure report records the launcher's outcome, reason code and exit; runs are listed newest first", async () => {
    const c = await claimed("w-fail");
    await started(c, "w-fail");
    await api.service.dispatch.failed({
      id: c.id,
      worker_id: "w-fail",
      attempt: c.attempt,
      reason: "agent timed out after 1 min",
      outcome: "timed_out",
      reason_code: "RUN_TIMED_OUT",
      reason_params: { minutes: 1 },
      exit_code: null,
      signal: "SIGTERM",
      duration_ms: 61_000,
    });
    await api.service.tasks.setStatus({ id: c.id, status: "next" });
    await api.service.tasks.update({ id: c.id, blocked: false });
    await api.service.tasks.dispatch({ id: c.id });
    const again = await api.service.dispatch.next({ worker_id: "w-fail-2", agent_slugs: ["hermes"] });
    expect(again.claimed).toBe(true);
    const runs = await runsOf(c.id);
    expect(runs.map((r) => [r.attempt, r.worker_id, r.outcome])).toEqual([
      [2, "w-fail-2", null],
      [1, "w-fail", "timed_out"],
    ]);
    expect(runs[1]).toMatchObject({ reason: "agent timed out after 1 min", reason_code: "RUN_TIMED_OUT", reason_params: { minutes: 1 }, signal: "SIGTERM", duration_ms: 61_000 });
  });

  it("the watchdog marks the run lost; the late report that follows is refused and the run stays lost", async () => {
    const c = await claimed("w-lost");
    await runWatchdogPass(api.db, { actor: "test", manual: true, staleMinutes: 0, taskIds: [c.id] });
    let [run] = await runsOf(c.id);
    expect(run).toMatchObject({ outcome: "lost", reason_code: "stale_dispatch" });
    expect(await opsCodeOf(started(c, "w-lost"))).toBe("STALE_CLAIM");
    [run] = await runsOf(c.id);
    expect(run!.outcome).toBe("lost");
  });

  it("a late report for a run nobody closed (the task was moved on by hand) marks it refused", async () => {
    const c = await claimed("w-moved");
    await started(c, "w-moved");
    await api.db.execute(sql`update tasks set status = 'backlog', claimed_by = null where id = ${c.id}`);
    expect(await opsCodeOf(api.service.dispatch.finished({ id: c.id, worker_id: "w-moved", attempt: c.attempt, exit_code: 0, duration_ms: 10 }))).toBe("STALE_CLAIM");
    const [run] = await runsOf(c.id);
    expect(run).toMatchObject({ outcome: "refused", reason_code: "STALE_REPORT" });
    expect(run!.ended_at).not.toBeNull();
  });
});

describe("run output", () => {
  it("stores chunks in order, once: a retry is seen, a gap or an overlap asks to resync", async () => {
    const c = await claimed("w-out");
    await started(c, "w-out");
    const first = await upload("w-out", [chunk(c, "stdout", 0, "hello\n"), chunk(c, "stderr", 0, "warn: x\n")]);
    expect(first.results.map((r) => [r.stream, r.status, r.next_offset])).toEqual([
      ["stdout", "stored", 6],
      ["stderr", "stored", 8],
    ]);
    const retry = await upload("w-out", [chunk(c, "stdout", 0, "hello\n")]);
    expect(retry.results[0]).toMatchObject({ status: "seen", next_offset: 6 });
    const gap = await upload("w-out", [chunk(c, "stdout", 100, "later\n")]);
    expect(gap.results[0]).toMatchObject({ status: "resync", next_offset: 6 });
    const overlap = await upload("w-out", [chunk(c, "stdout", 3, "lo\nworld\n")]);
    expect(overlap.results[0]).toMatchObject({ status: "resync", next_offset: 6 });
    // Two consecutive chunks of one stream in one upload (a launcher catching up).
    const catchUp = await upload("w-out", [chunk(c, "stdout", 6, "world\n"), chunk(c, "stdout", 12, "bye\n")]);
    expect(catchUp.results.map((r) => r.status)).toEqual(["stored", "stored"]);
    const out = await fullOutput(c.id, c.runId);
    expect(out.chunks.map((k) => [k.stream, k.text])).toEqual([
      ["stdout", "hello\n"],
      ["stderr", "warn: x\n"],
      ["stdout", "world\n"],
      ["stdout", "bye\n"],
    ]);
    expect(out.next_offset).toBe(6 + 8 + 6 + 4);
    expect(out.done).toBe(false);
    const [run] = await runsOf(c.id);
    expect(run!.output).toMatchObject({ stdout_bytes: 16, stderr_bytes: 8, kept_bytes: 24, truncated: false });
    // From an offset: only what comes after it.
    const tail = await api.service.runs.output({ id: c.id, run: c.runId, offset: 14, limit_kb: 1024 });
    expect(tail.chunks.map((k) => k.text)).toEqual(["world\n", "bye\n"]);
  });

  it("stores a NUL byte (which PostgreSQL text cannot hold) as U+FFFD instead of failing the upload", async () => {
    const c = await claimed("w-nul");
    await started(c, "w-nul");
    const result = await upload("w-nul", [{ ...chunk(c, "stdout", 0, "a\u0000b\n"), length: 4 }]);
    expect(result.results[0]!.status).toBe("stored");
    expect((await fullOutput(c.id, c.runId)).chunks[0]!.text).toBe("a\uFFFDb\n");
  });

  it("is done once the run ended and the reported file sizes have arrived", async () => {
    const c = await claimed("w-done");
    await started(c, "w-done");
    await upload("w-done", [chunk(c, "stdout", 0, "part one\n")]);
    await api.service.dispatch.finished({ id: c.id, worker_id: "w-done", attempt: c.attempt, exit_code: 0, duration_ms: 10, stdout_bytes: 18, stderr_bytes: 0 });
    expect((await fullOutput(c.id, c.runId)).done).toBe(false);
    // The tail still arrives after the outcome (the launcher reports first, streams the rest).
    expect((await upload("w-done", [chunk(c, "stdout", 9, "part two\n")])).results[0]!.status).toBe("stored");
    const out = await fullOutput(c.id, c.runId);
    expect(out.done).toBe(true);
    expect(out.chunks.map((k) => k.text).join("")).toBe("part one\npart two\n");
  });

  it("refuses chunks of a stale attempt, of another worker, and of a run the watchdog took back", async () => {
    const c = await claimed("w-fence");
    await started(c, "w-fence");
    expect((await upload("w-intruder", [chunk(c, "stdout", 0, "x")])).results[0]!.status).toBe("refused");
    expect((await upload("w-fence", [chunk({ id: c.id, attempt: c.attempt + 1 }, "stdout", 0, "x")])).results[0]!.status).toBe("refused");
    await runWatchdogPass(api.db, { actor: "test", manual: true, staleMinutes: 0, taskIds: [c.id] });
    await api.db.execute(sql`update tasks set status = 'dispatching', claimed_at = now() - interval '1 hour' where id = ${c.id}`);
    await runWatchdogPass(api.db, { actor: "test", manual: true, staleMinutes: 0, taskIds: [c.id] });
    expect((await upload("w-fence", [chunk(c, "stdout", 0, "after the watchdog")])).results[0]!).toMatchObject({ status: "refused", next_offset: null });
    expect((await fullOutput(c.id, c.runId)).chunks).toEqual([]);
  });

  it("keeps the head and the tail under run_output_max_kb, with a truncated marker between", async () => {
    await api.service.settings.put({ key: "run_output_max_kb", value: "256" });
    try {
      const c = await claimed("w-cap");
      await started(c, "w-cap");
      const line = (i: number) => `${String(i).padStart(6, "0")} ${"x".repeat(1016)}\n`; // 1 KiB
      let offset = 0;
      for (let batch = 0; batch < 8; batch++) {
        const chunks: TOutputUploadChunk[] = [];
        for (let i = 0; i < 10; i++) {
          const text = line(batch * 10 + i).repeat(8); // 8 KiB per chunk, 80 KiB per upload
          chunks.push(chunk(c, "stdout", offset, text));
          offset += text.length;
        }
        expect((await upload("w-cap", chunks)).results.every((r) => r.status === "stored")).toBe(true);
      }
      const [run] = await runsOf(c.id);
      expect(run!.output.stdout_bytes).toBe(640 * 1024);
      expect(run!.output.kept_bytes).toBeLessThanOrEqual(256 * 1024);
      expect(run!.output.truncated).toBe(true);
      const out = await fullOutput(c.id, c.runId);
      const text = out.chunks.map((k) => k.text).join("");
      expect(text.startsWith(line(0))).toBe(true);
      expect(text.endsWith(line(79))).toBe(true);
      const markers = out.chunks.filter((k) => k.stream === "truncated");
      expect(markers).toHaveLength(1);
      expect(markers[0]!.text).toMatch(/bytes of output not kept/);
      expect(out.truncated).toBe(true);
    } finally {
      await api.service.settings.put({ key: "run_output_max_kb", value: "4096" });
    }
  });

  it("two uploads of the same chunk at the same moment store it once", async () => {
    const c = await claimed("w-race");
    await started(c, "w-race");
    for (let i = 0; i < 20; i++) {
      const text = `line ${i}\n`;
      const offset = (await runsOf(c.id))[0]!.output.stdout_bytes;
      const answers = await Promise.all([0, 1, 2, 3].map(() => upload("w-race", [chunk(c, "stdout", offset, text)])));
      expect(answers.map((a) => a.results[0]!.status).filter((s) => s === "stored")).toHaveLength(1);
    }
    const out = await fullOutput(c.id, c.runId);
    expect(out.chunks.map((k) => k.text).join("")).toBe(Array.from({ length: 20 }, (_, i) => `line ${i}\n`).join(""));
  });

  it("is read by the task's workspace only: another workspace gets 404, an agent token 403", async () => {
    const c = await claimed("w-access");
    const outsider: Principal = { kind: "user", userId: 99, username: "outsider", isInstanceAdmin: false, roles: new Map([[2, "admin"]]), sessionIdHash: "" };
    expect(await opsCodeOf(api.as(outsider).runs.list({ id: c.id, limit: 10 }))).toBe("NOT_FOUND");
    expect(await opsCodeOf(api.as(outsider).runs.output({ id: c.id, run: c.runId, offset: 0, limit_kb: 1 }))).toBe("NOT_FOUND");
    expect(await opsCodeOf(api.as(AS.agent(c.id, c.attempt)).runs.list({ id: c.id, limit: 10 }))).toBe("FORBIDDEN");
    expect((await api.as(AS.member).runs.list({ id: c.id, limit: 10 }))[0]!.id).toBe(c.runId);
    const other = await claimed("w-access");
    expect(await opsCodeOf(api.service.runs.get({ id: c.id, run: other.runId }))).toBe("NOT_FOUND");
  });

  it("output of runs that ended before run_output_retention_days is pruned; their records stay", async () => {
    const old = await claimed("w-old");
    await started(old, "w-old");
    await upload("w-old", [chunk(old, "stdout", 0, "old output\n")]);
    await api.service.dispatch.finished({ id: old.id, worker_id: "w-old", attempt: old.attempt, exit_code: 0, duration_ms: 10, stdout_bytes: 11 });
    const recent = await claimed("w-old");
    await started(recent, "w-old");
    await upload("w-old", [chunk(recent, "stdout", 0, "recent output\n")]);
    await api.service.dispatch.finished({ id: recent.id, worker_id: "w-old", attempt: recent.attempt, exit_code: 0, duration_ms: 10, stdout_bytes: 14 });
    await api.service.settings.put({ key: "run_output_retention_days", value: "3" });
    await api.db.execute(sql`update task_runs set ended_at = now() - interval '4 days' where id = ${old.runId}`);
    await api.db.execute(sql`update task_runs set ended_at = now() - interval '2 days' where id = ${recent.runId}`);
    expect(await pruneRunOutput(api.db)).toBeGreaterThanOrEqual(1);
    const oldOut = await fullOutput(old.id, old.runId);
    expect(oldOut).toMatchObject({ chunks: [], pruned: true, done: true });
    expect((await runsOf(old.id))[0]).toMatchObject({ outcome: "review", output: { stdout_bytes: 11, kept_bytes: 0, pruned: true } });
    expect((await fullOutput(recent.id, recent.runId)).chunks.map((k) => k.text)).toEqual(["recent output\n"]);
    const [left] = await queryRows<{ n: number }>(api.db, sql`select count(*)::int as n from task_run_output where run_id = ${old.runId}`);
    expect(Number(left!.n)).toBe(0);
  });
});

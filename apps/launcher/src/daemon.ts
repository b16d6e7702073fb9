import { statSync } from "node:fs";
import { hostname } from "node:os";
import type { TNextResult } from "@ops/contract";
import { type ApiClient, describeError, isRetryable, opsCodeOf } from "./api.ts";
import { expandTemplate, TemplateError } from "./argv.ts";
import type { LauncherConfig } from "./env.ts";
import { type ExitRecord, type LaunchRecord, LogSetupError, logFilesFor, prepareLogs, readExitRecord, spawnDetached, tailOf } from "./launch.ts";
import { isAlive, stopGroup } from "./processes.ts";
import { buildPrompt } from "./prompt.ts";
import { assessRuntime, BUILTIN_COMMANDS, findOnPath, missingRuntimeReason, probeVersion, type ResolvedCommand, resolveCommand } from "./runtimes.ts";
import type { LaunchState, PendingReport } from "./state.ts";
import type { Logger, WorkerLog } from "./worker-log.ts";

export const LAUNCHER_VERSION = "1.0.0";
type Claim = Extract<TNextResult, { claimed: true }>;

const SUPERVISE_MS = 250;
const MAX_REPORT_BACKOFF_MS = 30_000;
/** The contract caps each reported argv element; the prompt itself is in the .prompt.md file. */
const MAX_REPORTED_ARG = 2000;

export const earlyExitReason = (code: number | null, signal: string | null) =>
  `launcher process exited early (code=${code ?? "null"}, signal=${signal ?? "null"})`;

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
    signal?.addEventListener("abort", done, { once: true });
  });
}

export interface LauncherDeps {
  config: LauncherConfig;
  api: ApiClient;
  log: WorkerLog;
  state: LaunchState;
}

/**
 * The worker daemon: heartbeats its usable runtimes, claims work with the
 * long-poll, starts agents detached, follows them (also across its own
 * restarts) and reports how each run ended.
 */
export class Launcher {
  private readonly config: LauncherConfig;
  private readonly api: ApiClient;
  private readonly log: Logger;
  private readonly workerLog: WorkerLog;
  private readonly state: LaunchState;
  private readonly runs = new Map<number, LaunchRecord>();
  private reports: PendingReport[] = [];
  private reporting = false;
  /** Tasks whose started report is in flight: their outcome waits, or it could overtake it. */
  private readonly starting = new Set<number>();
  /** Runs being stopped (TERM sent, KILL may follow): their outcome is read once the stop is over. */
  private readonly stopping = new Set<number>();
  private usable: string[] = [];
  private cliVersions: Record<string, string> = {};
  private readonly versionCache = new Map<string, string | undefined>();
  private opsLaunchCommands: Record<string, string> = {};
  private readonly abort = new AbortController();
  private shuttingDown = false;
  private heartbeatTimer?: NodeJS.Timeout;
  private superviseTimer?: NodeJS.Timeout;
  private claimLoopDone?: Promise<void>;
  private slotFreed?: () => void;
  private warnedStale = false;
  private beating = false;
  private lastUsableKey = "";

  constructor(deps: LauncherDeps) {
    this.config = deps.config;
    this.api = deps.api;
    this.workerLog = deps.log;
    this.log = deps.log.logger;
    this.state = deps.state;
  }

  /** Re-adopt what the last run left, announce ourselves, start claiming. */
  async start(): Promise<void> {
    const saved = this.state.load();
    for (const record of saved.launches) {
      this.runs.set(record.taskId, record);
      const alive = isAlive(record.pid, record.procStart);
      this.log.info({
        task_id: record.taskId,
        pid: record.pid,
        attempt: record.attempt,
      }, alive ? "re-adopted running agent" : "agent ended while the launcher was down; reporting it");
    }
    this.reports = saved.reports;
    for (const record of saved.launches) if (!record.startedReported) void this.reportStarted(record);
    this.superviseTimer = setInterval(() => void this.supervise(), SUPERVISE_MS);
    await this.supervise();
    await this.heartbeat().catch((error) => this.log.warn({ error: describeError(error) }, "heartbeat failed; retrying on the next beat"));
    this.heartbeatTimer = setInterval(
      () => void this.heartbeat().catch((error) => this.log.warn({ error: describeError(error) }, "heartbeat failed")),
      this.config.heartbeatIntervalMs,
    );
    this.claimLoopDone = this.claimLoop();
    this.log.info({
      worker_id: this.config.workerId,
      api: this.config.apiBase,
      usable: this.usable,
      max_concurrent: this.config.maxConcurrent,
      log_dir: this.config.logDir,
    }, "launcher started");
  }

  /** SIGTERM: stop claiming, send a last heartbeat, leave running agents alone. */
  async stop(): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    this.abort.abort();
    this.slotFreed?.();
    clearInterval(this.heartbeatTimer);
    clearInterval(this.superviseTimer);
    await this.claimLoopDone;
    await this.supervise();
    // The last beat must go out even if a regular one is in flight.
    for (let i = 0; i < 300 && this.beating; i++) await sleep(50);
    await this.heartbeat().catch((error) => this.log.warn({ error: describeError(error) }, "last heartbeat failed"));
    this.save();
    const left = [...this.runs.values()].map((r) => ({ task_id: r.taskId, pid: r.pid }));
    this.log.info({ running: left }, "launcher stopped; running agents left alone and will be re-adopted on restart");
  }

  private save() {
    try {
      this.state.save({ launches: [...this.runs.values()], reports: this.reports });
    } catch (error) {
      this.log.error({ path: this.state.path, error: (error as Error).message }, "could not write the launcher state file");
    }
  }

  // ---------------------------------------------------------------- runtimes

  /** Which slugs this host can run now: command on PATH and credentials present. */
  async refreshRuntimes(): Promise<void> {
    const needOps = this.config.slugs.some((s) => !this.config.commands[s] && !BUILTIN_COMMANDS[s]);
    if (needOps) {
      try {
        // A slug with no command on this host can still run through its launch_command in OPS (runbook 1).
        const agents = await this.api.agents.list.query({}, { signal: AbortSignal.timeout(10_000) });
        this.opsLaunchCommands = Object.fromEntries(agents.filter((a) => a.active && a.launch_command).map((a) => [a.slug, a.launch_command!]));
      } catch (error) {
        this.log.warn({ error: describeError(error) }, "could not read agents' launch commands");
      }
    }
    const usable: string[] = [];
    const versions: Record<string, string> = {};
    const problems: Record<string, string> = {};
    for (const slug of this.config.slugs) {
      const hostCommand = this.config.commands[slug] || BUILTIN_COMMANDS[slug];
      const assessment = assessRuntime(slug, this.config, hostCommand ? undefined : this.opsLaunchCommands[slug]);
      if (assessment.executable) {
        const version = await this.versionOf(assessment.executable);
        if (version) versions[slug] = version;
      }
      if (assessment.usable) usable.push(slug);
      else problems[slug] = assessment.problem ?? "not usable";
    }
    this.usable = usable;
    this.cliVersions = versions;
    const key = JSON.stringify([usable, problems]);
    if (key !== this.lastUsableKey) {
      this.lastUsableKey = key;
      this.log.info({ usable, not_usable: problems, versions }, "usable runtimes");
    }
  }

  private async versionOf(executable: string): Promise<string | undefined> {
    let mtime = "";
    try {
      mtime = String(statSync(executable).mtimeMs);
    } catch {}
    const key = `${executable}@${mtime}`;
    if (!this.versionCache.has(key)) this.versionCache.set(key, await probeVersion(executable, this.config.agentBaseEnv));
    return this.versionCache.get(key);
  }

  // --------------------------------------------------------------- heartbeat

  async heartbeat(): Promise<void> {
    // A slow API must not pile beats up: skip this one if the last is still out.
    if (this.beating) return;
    this.beating = true;
    try {
      await this.beat();
    } finally {
      this.beating = false;
    }
  }

  private async beat(): Promise<void> {
    await this.refreshRuntimes();
    // Every task this worker still holds: agents running, and runs whose outcome is not reported yet
    // (a held task missing from this list is reconciled by the watchdog as a lost claim).
    const running = [...new Set([...this.runs.keys(), ...this.reports.map((r) => r.taskId)])];
    const result = await this.api.dispatch.heartbeat.mutate(
      {
        worker_id: this.config.workerId,
        hostname: hostname(),
        pid: process.pid,
        version: LAUNCHER_VERSION,
        agent_slugs: this.usable,
        models: this.config.models,
        running_task_ids: running,
        free_slots: this.shuttingDown ? 0 : Math.max(0, this.config.maxConcurrent - this.activeCount()),
        cli_versions: this.cliVersions,
      },
      { signal: AbortSignal.timeout(15_000) },
    );
    if (!this.warnedStale && result.worker_stale_seconds * 1000 < this.config.heartbeatIntervalMs * 3) {
      this.warnedStale = true;
      this.log.warn({
        interval_ms: this.config.heartbeatIntervalMs,
        worker_stale_seconds: result.worker_stale_seconds,
      }, "heartbeat interval is too close to dispatch_worker_stale_seconds; lower OPS_HEARTBEAT_INTERVAL_MS");
    }
    for (const taskId of result.stop_task_ids) void this.stopRun(taskId);
  }

  // ------------------------------------------------------------------- claim

  /** Every run holds a slot until its process group is gone, stopping ones included. */
  private activeCount(): number {
    return this.runs.size;
  }

  private async claimLoop(): Promise<void> {
    let backoff = 1000;
    while (!this.shuttingDown) {
      if (this.activeCount() >= this.config.maxConcurrent) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, 5000);
          function done() {
            clearTimeout(timer);
            resolve();
          }
          this.slotFreed = done;
        });
        continue;
      }
      if (this.usable.length === 0) {
        await sleep(Math.min(this.config.heartbeatIntervalMs, 5000), this.abort.signal);
        continue;
      }
      const asked = Date.now();
      try {
        const result = await this.api.dispatch.next.mutate(
          {
            worker_id: this.config.workerId,
            agent_slugs: this.usable,
            ...(this.config.models.length > 0 ? { models: this.config.models } : {}),
            wait_ms: this.config.pollWaitMs,
          },
          { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(this.config.pollWaitMs + 30_000)]) },
        );
        backoff = 1000;
        if (result.claimed) await this.launchOrReport(result);
        else if (Date.now() - asked < 500) await sleep(1000, this.abort.signal);
      } catch (error) {
        if (this.shuttingDown) break;
        this.log.warn({ error: describeError(error), retry_ms: backoff }, "dispatch/next failed; backing off");
        await sleep(backoff, this.abort.signal);
        backoff = Math.min(backoff * 2, 30_000);
      }
    }
  }

  // ------------------------------------------------------------------ launch

  /** A claimed task must end in a report, even when something unforeseen throws. */
  private async launchOrReport(claim: Claim): Promise<void> {
    try {
      await this.launch(claim);
    } catch (error) {
      this.log.error({ task_id: claim.task.id, error: (error as Error).stack ?? String(error) }, "launch crashed");
      if (!this.runs.has(claim.task.id)) {
        this.queueReport("failed", claim.task.id, claim.attempt, { reason: `launcher error: ${(error as Error).message}`.slice(0, 2000), duration_ms: 0 });
      }
    }
  }

  /** Starts one claimed task; every way it can fail ends in a failure report. */
  async launch(claim: Claim): Promise<void> {
    const { task, agent, attempt } = claim;
    this.workerLog.hide(claim.task_token);
    const fail = (reason: string, evidence?: string) => {
      this.log.error({ task_id: task.id, attempt, reason }, "launch failed");
      this.queueReport("failed", task.id, attempt, { reason, ...(evidence ? { evidence: evidence.slice(0, 20_000) } : {}), duration_ms: 0 });
    };
    let command: ResolvedCommand | undefined;
    try {
      command = resolveCommand(agent.slug, agent.launch_command, this.config);
    } catch (error) {
      if (!(error instanceof TemplateError)) throw error;
      return fail(`invalid launch command for agent ${agent.slug}: ${error.message}`, `launch_command in OPS: ${agent.launch_command}`);
    }
    if (!command) return fail(`no launch command for agent ${agent.slug} on ${this.config.workerId}: set AGENT_CMD_${agent.slug.toUpperCase().replace(/-/g, "_")} or the agent's launch_command`);
    const executable = findOnPath(command.program, this.config.path);
    if (!executable) {
      return fail(missingRuntimeReason(command.program), `command (${command.origin}): ${command.template}\nworker: ${this.config.workerId}\nPATH=${this.config.path}`);
    }
    const model = task.model ?? agent.default_model ?? "";
    if (model.startsWith("-")) return fail(`refusing model name "${model}": it would read as an option`);
    const workdir = task.working_dir ?? agent.working_dir ?? this.config.defaultWorkdir;
    try {
      if (!statSync(workdir).isDirectory()) return fail(`working directory not usable: ${workdir} (not a directory)`);
    } catch (error) {
      return fail(`working directory not usable: ${workdir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
    }
    const prompt = buildPrompt({ task, context: claim.context, apiBase: this.config.apiBase, attempt });
    const files = logFilesFor(this.config.logDir, task.id);
    let fds: { outFd: number; errFd: number };
    try {
      fds = prepareLogs(this.config.logDir, files, prompt);
    } catch (error) {
      if (error instanceof LogSetupError) return fail(error.message, `worker: ${this.config.workerId}\nOPS_LAUNCHER_LOG_DIR=${this.config.logDir}`);
      throw error;
    }
    const argv = expandTemplate(command.words, {
      prompt,
      prompt_file: files.promptPath,
      task_id: String(task.id),
      attempt: String(attempt),
      model,
      workdir,
    });
    const env: Record<string, string> = {
      ...this.config.agentBaseEnv,
      OPS_API_BASE: this.config.apiBase,
      OPS_TASK_ID: String(task.id),
      OPS_TASK_ATTEMPT: String(attempt),
      OPS_TASK_TOKEN: claim.task_token,
      OPS_TASK_PROMPT_FILE: files.promptPath,
    };
    let spawned: { pid: number; procStart?: string | undefined };
    try {
      spawned = await spawnDetached({ argv: [executable, ...argv.slice(1)], cwd: workdir, env, files }, fds);
    } catch (error) {
      return fail(`failed to start agent ${command.program}: ${(error as Error).message}`);
    }
    const record: LaunchRecord = {
      taskId: task.id,
      attempt,
      slug: agent.slug,
      pid: spawned.pid,
      procStart: spawned.procStart,
      startedAt: Date.now(),
      command: argv.map((a) => (a.length > MAX_REPORTED_ARG ? `${a.slice(0, 200)}… (${a.length} chars; full text in ${files.promptPath})` : a)),
      ...files,
    };
    this.runs.set(task.id, record);
    this.save();
    this.log.info({ task_id: task.id, attempt, slug: agent.slug, pid: spawned.pid, command: command.origin, log: files.logPath }, "agent started");
    await this.reportStarted(record);
  }

  private async reportStarted(record: LaunchRecord): Promise<void> {
    this.starting.add(record.taskId);
    try {
      await this.sendStarted(record);
    } finally {
      this.starting.delete(record.taskId);
    }
  }

  private async sendStarted(record: LaunchRecord): Promise<void> {
    for (let tries = 1; tries <= 5 && !record.startedReported; tries++) {
      try {
        await this.api.dispatch.started.mutate(
          {
            id: record.taskId,
            worker_id: this.config.workerId,
            attempt: record.attempt,
            pid: record.pid,
            command: record.command.slice(0, 200),
            log_path: record.logPath,
            err_log_path: record.errLogPath,
          },
          { signal: AbortSignal.any([this.abort.signal, AbortSignal.timeout(15_000)]) },
        );
        record.startedReported = true;
        this.save();
      } catch (error) {
        if (opsCodeOf(error) === "STALE_CLAIM") {
          // Cancelled or recovered between claim and start: the run is not ours to keep.
          this.log.warn({ task_id: record.taskId, error: describeError(error) }, "task no longer held at start; stopping the agent");
          await this.stopRun(record.taskId, "task no longer held by this worker at start");
          return;
        }
        if (!isRetryable(error)) {
          this.log.error({ task_id: record.taskId, error: describeError(error) }, "started report refused");
          return;
        }
        if (this.shuttingDown) return; // sent again by the next start (startedReported is saved)
        await sleep(1000 * tries, this.abort.signal);
      }
    }
  }

  // -------------------------------------------------------------------- stop

  /** Operator cancel (or lost claim): TERM the group, KILL after the grace period. */
  async stopRun(taskId: number, knownReason?: string): Promise<void> {
    const record = this.runs.get(taskId);
    // A stop cut short by a launcher restart (reason saved, no signal result)
    // runs again, so an agent ignoring SIGTERM still gets its SIGKILL.
    if (!record || record.stoppedWith || this.stopping.has(taskId)) return;
    this.stopping.add(taskId);
    try {
      record.stopReason ??= knownReason ?? (await this.whyStop(taskId));
      this.save();
      this.log.info({ task_id: taskId, pid: record.pid, reason: record.stopReason }, "stopping agent");
      const signal = await stopGroup(record.pid, this.config.stopGraceMs);
      record.stoppedWith = signal ?? "none";
      this.save();
    } finally {
      this.stopping.delete(taskId);
    }
  }

  /** The operator's cancel, or the claim went elsewhere (watchdog, re-claim): the report says which. */
  private async whyStop(taskId: number): Promise<string> {
    try {
      const task = await this.api.tasks.get.query({ id: taskId }, { signal: AbortSignal.timeout(10_000) });
      return task.cancel_requested_at
        ? "cancelled by operator"
        : `task no longer held by this worker (now ${task.status}, held by ${task.claimed_by ?? "nobody"})`;
    } catch {
      return "task no longer held by this worker";
    }
  }

  // --------------------------------------------------------------- supervise

  /** Notices ended runs (by the wrapper's exit record, or a dead group) and sends pending reports. */
  private async supervise(): Promise<void> {
    for (const record of [...this.runs.values()]) {
      if (this.stopping.has(record.taskId)) continue;
      let exit = readExitRecord(record.exitPath);
      if (!exit) {
        if (isAlive(record.pid, record.procStart)) continue;
        exit = readExitRecord(record.exitPath);
      }
      this.runs.delete(record.taskId);
      this.queueOutcome(record, exit);
      this.slotFreed?.();
    }
    await this.flushReports();
  }

  private queueOutcome(record: LaunchRecord, exit: ExitRecord | undefined): void {
    const durationMs = Math.max(0, (exit?.ended_at ?? Date.now()) - record.startedAt);
    const logs = { log_path: record.logPath, err_log_path: record.errLogPath };
    const base = { duration_ms: durationMs };
    if (record.stopReason) {
      const signal = exit?.signal ?? record.stoppedWith ?? null;
      this.queueReport("failed", record.taskId, record.attempt, {
        ...base,
        reason: `${record.stopReason}: agent stopped (signal=${signal ?? "null"})`,
        exit_code: exit?.code ?? null,
        signal,
        evidence: `Logs: ${record.logPath}\n${tailOf(record.errLogPath, 2000)}`,
      });
      return;
    }
    if (!exit) {
      this.queueReport("failed", record.taskId, record.attempt, {
        ...base,
        reason: "agent process ended without an exit record (killed with its wrapper, or the log folder became unwritable)",
        exit_code: null,
        signal: null,
        evidence: `Logs: ${record.logPath}\n${tailOf(record.errLogPath)}`,
      });
      return;
    }
    if (exit.code === 0) {
      this.log.info({ task_id: record.taskId, duration_ms: durationMs }, "agent finished");
      this.queueReport("finished", record.taskId, record.attempt, { ...base, exit_code: 0, ...logs });
      return;
    }
    const tail = tailOf(record.errLogPath);
    const evidence = `.err.log tail (${record.errLogPath}):\n${tail || "(empty)"}`;
    const reason =
      durationMs < this.config.earlyExitMs
        ? earlyExitReason(exit.code, exit.signal)
        : `agent process failed (code=${exit.code ?? "null"}, signal=${exit.signal ?? "null"}) after ${(durationMs / 1000).toFixed(1)}s`;
    this.queueReport("failed", record.taskId, record.attempt, { ...base, reason, evidence, exit_code: exit.code, signal: exit.signal });
  }

  private queueReport(kind: PendingReport["kind"], taskId: number, attempt: number, payload: Record<string, unknown>): void {
    this.reports.push({ kind, taskId, attempt, payload, tries: 0, nextAt: 0 });
    this.save();
    void this.flushReports();
  }

  /** Sends what is due; keeps what failed for a retry (the API may be restarting). */
  private async flushReports(): Promise<void> {
    if (this.reporting) return;
    this.reporting = true;
    try {
      for (const report of [...this.reports]) {
        if (report.nextAt > Date.now() || this.starting.has(report.taskId)) continue;
        const fence = { id: report.taskId, worker_id: this.config.workerId, attempt: report.attempt };
        try {
          if (report.kind === "finished") {
            await this.api.dispatch.finished.mutate({ ...fence, ...(report.payload as { exit_code: number; duration_ms: number }) }, { signal: AbortSignal.timeout(15_000) });
          } else {
            await this.api.dispatch.failed.mutate({ ...fence, ...(report.payload as { reason: string }) }, { signal: AbortSignal.timeout(15_000) });
          }
          this.log.info({ task_id: report.taskId, attempt: report.attempt, ...(report.kind === "failed" ? { reason: report.payload.reason } : {}) }, `reported ${report.kind}`);
          this.reports = this.reports.filter((r) => r !== report);
        } catch (error) {
          if (opsCodeOf(error) === "STALE_CLAIM") {
            this.log.warn({ task_id: report.taskId, error: describeError(error) }, `${report.kind} report refused: someone else owns the task now`);
            this.reports = this.reports.filter((r) => r !== report);
          } else if (!isRetryable(error)) {
            this.log.error({ task_id: report.taskId, error: describeError(error), payload: report.payload }, `${report.kind} report refused`);
            this.reports = this.reports.filter((r) => r !== report);
          } else {
            report.tries++;
            report.nextAt = Date.now() + Math.min(MAX_REPORT_BACKOFF_MS, 1000 * 2 ** Math.min(report.tries, 5));
            this.log.warn({ task_id: report.taskId, error: describeError(error) }, `${report.kind} report failed; will retry`);
          }
        }
        this.save();
      }
    } finally {
      this.reporting = false;
    }
  }
}

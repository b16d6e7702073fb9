import { lstatSync } from "node:fs";
import { hostname } from "node:os";
import { type ApiClient, describeError } from "./api.ts";
import { ClaimLoop } from "./claim-loop.ts";
import type { LauncherConfig } from "./env.ts";
import { type LaunchRecord, readExitRecord, startRun, tailOf, thisHost } from "./launch.ts";
import { type Claim, type LaunchRefusal, planLaunch } from "./launch-plan.ts";
import { pruneLaunchLogs } from "./log-retention.ts";
import { classifyOutcome } from "./outcome.ts";
import { ReportOutbox, sendThrough } from "./outbox.ts";
import { OutputStreamer } from "./output-streamer.ts";
import { isAlive } from "./processes.ts";
import { SecretRedactor } from "./redact.ts";
import { startedReportOf } from "./reports.ts";
import { overdueRuns, timedOutReason } from "./run-timer.ts";
import { runtimeCredentialValues } from "./runtimes.ts";
import { sleep } from "./sleep.ts";
import type { LaunchState } from "./state.ts";
import { StopWatch } from "./stop-watch.ts";
import { RunStopper } from "./stop-run.ts";
import { UsableRuntimes } from "./usable-runtimes.ts";
import type { Logger, WorkerLog } from "./worker-log.ts";

const LAUNCHER_VERSION = "1.0.0";

const isSymlink = (path: string) => {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
};

const SUPERVISE_MS = 250;
const LOG_PRUNE_MS = 60 * 60 * 1000;
const UPLOAD_TIMEOUT_MS = 15_000;
/** The contract caps a failure report's evidence. */
const MAX_EVIDENCE = 20_000;

export interface LauncherDeps {
  config: LauncherConfig;
  api: ApiClient;
  log: WorkerLog;
  state: LaunchState;
}

/**
 * The worker daemon: heartbeats its usable runtimes, claims work with the
 * long-poll, starts agents detached, follows them (also across its own
 * restarts) and reports how each run ended. It wires the parts: the claim
 * loop, the launch plan, the outcome classifier, the report outbox, the run
 * stopper and the runtime survey, around the runs it holds.
 */
export class Launcher {
  private readonly config: LauncherConfig;
  private readonly api: ApiClient;
  private readonly log: Logger;
  private readonly workerLog: WorkerLog;
  private readonly state: LaunchState;
  /** The runs this worker holds, by task id; each keeps a slot until its process group is gone. */
  private readonly runs = new Map<number, LaunchRecord>();
  private readonly runtimes: UsableRuntimes;
  private readonly outbox: ReportOutbox;
  private readonly stopper: RunStopper;
  private readonly claims: ClaimLoop;
  private readonly output: OutputStreamer;
  private readonly stops: StopWatch;
  private readonly abort = new AbortController();
  private heartbeatTimer?: NodeJS.Timeout;
  private superviseTimer?: NodeJS.Timeout;
  private pruneTimer?: NodeJS.Timeout;
  private claimLoopDone?: Promise<void>;
  private stopWatchDone?: Promise<void>;
  private warnedStale = false;
  private beating = false;

  constructor(deps: LauncherDeps) {
    const { config, api, state } = deps;
    this.config = config;
    this.api = api;
    this.workerLog = deps.log;
    this.log = deps.log.logger;
    this.state = state;
    const log = this.log;
    const persist = () => this.save();
    this.runtimes = new UsableRuntimes({ config, api, log });
    this.stopper = new RunStopper({ runs: this.runs, log, graceMs: config.stopGraceMs, persist });
    this.outbox = new ReportOutbox({
      send: sendThrough(api, config.workerId),
      log,
      persist,
      onDelivered: (report) => {
        const record = this.runs.get(report.taskId);
        if (report.kind === "started" && record?.attempt === report.attempt) record.startedReported = true;
      },
      onStaleStart: (taskId) => void this.stopper.stop(taskId, "task no longer held by this worker at start"),
    });
    this.output = new OutputStreamer({
      upload: async (chunks) =>
        (await api.runs.upload.mutate({ worker_id: config.workerId, chunks }, { signal: AbortSignal.timeout(UPLOAD_TIMEOUT_MS) })).results,
      log,
      secrets: () => this.fixedSecrets(),
      persist,
    });
    this.stops = new StopWatch({
      api,
      log,
      workerId: config.workerId,
      signal: this.abort.signal,
      runningTaskIds: () => [...this.runs.keys()],
      onStop: (stop) => void this.stopper.stop(stop.id, stop.reason, stop.code),
    });
    this.claims = new ClaimLoop({
      api,
      log,
      config,
      signal: this.abort.signal,
      activeCount: () => this.runs.size,
      usableSlugs: () => this.runtimes.usable,
      onClaim: (claim) => this.launchOrReport(claim),
    });
  }

  private get shuttingDown(): boolean {
    return this.abort.signal.aborted;
  }

  /** Re-adopt what the last run left, announce ourselves, start claiming. */
  async start(): Promise<void> {
    const saved = this.state.load();
    this.outbox.restore(saved.reports);
    this.output.restore(saved.outputs);
    for (const record of saved.launches) {
      this.runs.set(record.taskId, record);
      if (!this.output.has(record.taskId, record.attempt)) this.output.track(record);
      const alive = isAlive(record.pid, record.procStart);
      this.log.info(
        { task_id: record.taskId, pid: record.pid, attempt: record.attempt },
        alive ? "re-adopted running agent" : "agent ended while the launcher was down; reporting it",
      );
    }
    // Queued before the runs' outcomes, so the API hears of each start first (a launcher stopped mid-report).
    for (const record of saved.launches) {
      if (!record.startedReported && !this.outbox.has(record.taskId, record.attempt, "started")) this.outbox.add(startedReportOf(record));
    }
    this.superviseTimer = setInterval(() => void this.supervise(), SUPERVISE_MS);
    await this.supervise();
    await this.heartbeat().catch((error) => this.log.warn({ error: describeError(error) }, "heartbeat failed; retrying on the next beat"));
    this.heartbeatTimer = setInterval(
      () => void this.heartbeat().catch((error) => this.log.warn({ error: describeError(error) }, "heartbeat failed")),
      this.config.heartbeatIntervalMs,
    );
    this.claimLoopDone = this.claims.run();
    this.stopWatchDone = this.stops.run();
    this.pruneLogs();
    this.pruneTimer = setInterval(() => this.pruneLogs(), LOG_PRUNE_MS);
    this.log.info(
      {
        worker_id: this.config.workerId,
        api: this.config.apiBase,
        usable: this.runtimes.usable,
        max_concurrent: this.config.maxConcurrent,
        log_dir: this.config.logDir,
      },
      "launcher started",
    );
  }

  /** SIGTERM: stop claiming, send a last heartbeat, leave running agents alone. */
  async stop(): Promise<void> {
    if (this.shuttingDown) return;
    this.abort.abort();
    clearInterval(this.heartbeatTimer);
    clearInterval(this.superviseTimer);
    clearInterval(this.pruneTimer);
    this.stops.runsChanged();
    await this.claimLoopDone;
    await this.stopWatchDone;
    await this.supervise();
    // The last beat must go out even if a regular one is in flight.
    for (let i = 0; i < 300 && this.beating; i++) await sleep(50);
    await this.heartbeat().catch((error) => this.log.warn({ error: describeError(error) }, "last heartbeat failed"));
    this.save();
    const left = [...this.runs.values()].map((r) => ({ task_id: r.taskId, pid: r.pid }));
    this.log.info({ running: left }, "launcher stopped; running agents left alone and will be re-adopted on restart");
  }

  private save(): void {
    try {
      this.state.save({ launches: [...this.runs.values()], reports: [...this.outbox.reports], outputs: this.output.entries });
    } catch (error) {
      this.log.error({ path: this.state.path, error: (error as Error).message }, "could not write the launcher state file");
    }
  }

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
    await this.runtimes.refresh();
    // Every task this worker still holds: agents running, and runs whose outcome is not reported yet
    // (a held task missing from this list is reconciled by the watchdog as a lost claim).
    const running = [...new Set([...this.runs.keys(), ...this.outbox.reports.map((r) => r.taskId)])];
    const result = await this.api.dispatch.heartbeat.mutate(
      {
        worker_id: this.config.workerId,
        hostname: hostname(),
        pid: process.pid,
        version: LAUNCHER_VERSION,
        agent_slugs: this.runtimes.usable,
        models: this.config.models,
        running_task_ids: running,
        free_slots: this.shuttingDown ? 0 : Math.max(0, this.config.maxConcurrent - this.runs.size),
        cli_versions: this.runtimes.versions,
        runtimes: this.runtimes.states,
      },
      { signal: AbortSignal.timeout(15_000) },
    );
    if (!this.warnedStale && result.worker_stale_seconds * 1000 < this.config.heartbeatIntervalMs * 3) {
      this.warnedStale = true;
      this.log.warn(
        { interval_ms: this.config.heartbeatIntervalMs, worker_stale_seconds: result.worker_stale_seconds },
        "heartbeat interval is too close to dispatch_worker_stale_seconds; lower OPS_HEARTBEAT_INTERVAL_MS",
      );
    }
    for (const stop of result.stop_tasks) void this.stopper.stop(stop.id, stop.reason, stop.code);
  }

  /**
   * Stops runs past their time limit, notices ended runs (by the wrapper's
   * exit record, or a dead group), queues their outcome, sends what is due:
   * reports, then new output.
   */
  private async supervise(): Promise<void> {
    for (const record of overdueRuns(this.runs.values(), Date.now())) {
      void this.stopper.stop(record.taskId, timedOutReason(record.timeoutMinutes!), "timed_out");
    }
    for (const record of [...this.runs.values()]) {
      if (this.stopper.isStopping(record.taskId)) continue;
      let exit = readExitRecord(record.exitPath);
      if (!exit) {
        if (isAlive(record.pid, record.procStart)) continue;
        exit = readExitRecord(record.exitPath);
      }
      this.runs.delete(record.taskId);
      const totals = this.output.finish(record.taskId, record.attempt);
      const outcome = classifyOutcome(record, exit, { earlyExitMs: this.config.earlyExitMs, now: Date.now(), readTail: (path, max) => this.redactedTail(record, path, max) });
      if (totals && outcome.kind !== "started") Object.assign(outcome.payload, { stdout_bytes: totals.stdout, stderr_bytes: totals.stderr });
      if (outcome.kind === "finished") this.log.info({ task_id: record.taskId, duration_ms: outcome.payload.duration_ms }, "agent finished");
      this.outbox.add({ taskId: record.taskId, attempt: record.attempt, ...outcome });
      this.claims.slotFreed();
      this.stops.runsChanged();
    }
    await this.outbox.flush();
    await this.output.flush();
  }

  /** The credentials every run's output is redacted of: the launcher's token and the runtimes' credential variables. */
  private fixedSecrets(): string[] {
    return [this.config.credential.token, ...runtimeCredentialValues(this.config)];
  }

  private redactedTail(record: LaunchRecord, path: string, maxBytes?: number): string {
    return new SecretRedactor([...this.fixedSecrets(), ...(record.taskToken ? [record.taskToken] : [])]).redactText(tailOf(path, maxBytes));
  }

  /** Removes the files of finished launches older than OPS_LAUNCHER_LOG_RETENTION_DAYS (never those still in use). */
  private pruneLogs(): void {
    try {
      const inUse = new Set([...this.runs.values()].flatMap((r) => [r.logPath, r.errLogPath]));
      for (const path of this.output.filesInUse) inUse.add(path);
      const options = { retentionDays: this.config.logRetentionDays, now: Date.now(), inUse };
      const removed = pruneLaunchLogs(this.config.logDir, options);
      // An agent user's prompt copies share the launches' names and their retention.
      // (Not through a link the agent user planted in its HOME: root would remove files wherever it points.)
      if (this.config.agentPromptDir && !isSymlink(this.config.agentPromptDir)) pruneLaunchLogs(this.config.agentPromptDir, options);
      if (removed.length > 0) this.log.info({ launches: removed.length, log_dir: this.config.logDir, retention_days: this.config.logRetentionDays }, "removed the logs of finished launches past their retention");
    } catch (error) {
      this.log.warn({ error: (error as Error).message, log_dir: this.config.logDir }, "could not prune old launch logs");
    }
  }

  /** A claimed task must end in a report, even when something unforeseen throws. */
  private async launchOrReport(claim: Claim): Promise<void> {
    try {
      await this.launch(claim);
    } catch (error) {
      this.log.error({ task_id: claim.task.id, error: (error as Error).stack ?? String(error) }, "launch crashed");
      if (!this.runs.has(claim.task.id)) this.refuse(claim, { reason: `launcher error: ${(error as Error).message}`.slice(0, 2000) });
    }
  }

  /** Starts one claimed task; every way it can fail ends in a failure report. */
  async launch(claim: Claim): Promise<void> {
    this.workerLog.hide(claim.task_token);
    const planned = planLaunch(claim, this.config, thisHost(this.config));
    if (!planned.ok) return this.refuse(claim, planned);
    const started = await startRun(planned.plan, this.config);
    if (!started.ok) return this.refuse(claim, started);
    const { record } = started;
    record.runId = claim.run_id;
    record.timeoutMinutes = claim.run_timeout_minutes;
    record.taskToken = claim.task_token;
    this.runs.set(record.taskId, record);
    this.output.track(record);
    this.stops.runsChanged();
    this.log.info(
      { task_id: record.taskId, attempt: record.attempt, slug: record.slug, pid: record.pid, command: planned.plan.command.origin, log: record.logPath },
      "agent started",
    );
    this.outbox.add(startedReportOf(record));
  }

  private refuse(claim: Claim, { reason, evidence, code }: LaunchRefusal): void {
    this.log.error({ task_id: claim.task.id, attempt: claim.attempt, reason }, "launch failed");
    this.outbox.add({
      kind: "failed",
      taskId: claim.task.id,
      attempt: claim.attempt,
      payload: { reason, ...(evidence ? { evidence: evidence.slice(0, MAX_EVIDENCE) } : {}), ...(code ? { reason_code: code } : {}), duration_ms: 0 },
    });
  }
}

import { closeSync, mkdirSync, openSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type ApiClient, describeError, opsCodeOf } from "./api.ts";
import type { LauncherConfig } from "./env.ts";
import { assessRuntime, missingRuntimeReason, probeVersion } from "./runtimes.ts";

export type Status = "OK" | "MISSING" | "NOT_AUTHENTICATED" | "FAIL" | "WARN";
export interface DoctorLine {
  subject: string;
  status: Status;
  detail: string;
}
export interface DoctorReport {
  lines: DoctorLine[];
  pass: boolean;
  summary: string;
}

/** Runtime checks, one line per supported slug: resolved path and version, or MISSING; credentials. */
export async function checkRuntimes(config: LauncherConfig): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = [];
  for (const slug of config.slugs) {
    const a = assessRuntime(slug, config);
    if (!a.command) {
      lines.push({ subject: slug, status: "MISSING", detail: a.problem ?? "no command" });
      continue;
    }
    if (!a.executable) {
      lines.push({ subject: slug, status: "MISSING", detail: `${a.command.program} not found on PATH (command from ${a.command.origin}): ${missingRuntimeReason(a.command.program)}` });
      continue;
    }
    const version = (await probeVersion(a.executable, config.agentBaseEnv)) ?? "--version did not answer";
    if (!a.credentials.ok) {
      lines.push({ subject: slug, status: "NOT_AUTHENTICATED", detail: `${a.executable} (${version}): installed but not authenticated — ${a.credentials.detail}` });
      continue;
    }
    lines.push({ subject: slug, status: "OK", detail: `${a.executable} (${version}); credentials: ${a.credentials.detail}; command from ${a.command.origin}` });
  }
  return lines;
}

const describePool = (ids: readonly number[] | null) => (ids === null ? "the whole instance" : `workspace(s) ${ids.join(", ")}`);

/**
 * The API answers and accepts the launcher's credential (dispatch.credential,
 * which a worker token may call); a worker token must be bound to this host's
 * OPS_WORKER_ID. Then a summary of dispatch: health for the service token,
 * the pool's agents for a worker token (health is not a worker's to read).
 */
export async function checkApi(config: LauncherConfig, api: ApiClient): Promise<DoctorLine[]> {
  const timeout = { signal: AbortSignal.timeout(10_000) };
  let who: Awaited<ReturnType<ApiClient["dispatch"]["credential"]["query"]>>;
  try {
    who = await api.dispatch.credential.query({}, timeout);
  } catch (error) {
    const code = opsCodeOf(error);
    if (code === "UNAUTHORIZED" || code === "FORBIDDEN") {
      return [{ subject: "api", status: "FAIL", detail: `${config.apiBase} answers but rejected OPS_SERVICE_TOKEN (${code}); check ops_settings.service_api_token` }];
    }
    return [{ subject: "api", status: "FAIL", detail: `${config.apiBase} unreachable: ${describeError(error)}` }];
  }
  if (who.credential === "worker_token") {
    if (who.worker_id !== config.workerId) {
      return [{ subject: "api", status: "FAIL", detail: `the worker token is bound to worker ${who.worker_id}, but OPS_WORKER_ID is ${config.workerId}` }];
    }
    const lines: DoctorLine[] = [
      { subject: "api", status: "OK", detail: `${config.apiBase} answers; worker token for ${who.worker_id} accepted (serves ${describePool(who.workspace_ids)})` },
    ];
    try {
      const agents = await api.dispatch.agents.query({}, timeout);
      lines.push({
        subject: "dispatch",
        status: who.dispatch_enabled ? "OK" : "WARN",
        detail: `dispatch_enabled=${who.dispatch_enabled}, active agents of its pool: ${[...new Set(agents.map((a) => a.slug))].join(",") || "none"}`,
      });
    } catch (error) {
      lines.push({ subject: "dispatch", status: "WARN", detail: `agents unavailable: ${describeError(error)}` });
    }
    return lines;
  }
  const lines: DoctorLine[] = [
    { subject: "api", status: "OK", detail: `${config.apiBase} answers; service token accepted` },
    {
      subject: "credential",
      status: "WARN",
      detail: "this launcher uses the service token, an instance-wide admin credential; issue it a worker token (POST /api/workers/tokens, or Ajustes → Workers)",
    },
  ];
  try {
    const health = await api.dispatch.health.query({}, timeout);
    lines.push({
      subject: "dispatch",
      status: health.ok ? "OK" : "WARN",
      detail: `dispatch_enabled=${health.dispatch_enabled}, fresh workers ${health.worker_summary.fresh}/${health.worker_summary.total}, active agents: ${health.active_agents.join(",") || "none"}${health.problems.length ? `; problems: ${health.problems.map((p) => p.message).join("; ")}` : ""}`,
    });
  } catch (error) {
    lines.push({ subject: "dispatch", status: "WARN", detail: `health unavailable: ${describeError(error)}` });
  }
  return lines;
}

function writableFile(path: string): string | undefined {
  try {
    mkdirSync(join(path, ".."), { recursive: true });
    closeSync(openSync(path, "a"));
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

function writableDir(dir: string): string | undefined {
  const probe = join(dir, `.doctor-${process.pid}`);
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(probe, "ok");
    unlinkSync(probe);
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

export function checkFolders(config: LauncherConfig): DoctorLine[] {
  const lines: DoctorLine[] = [];
  if (config.workerLog !== "-") {
    const problem = writableFile(config.workerLog);
    lines.push({ subject: "worker log", status: problem ? "FAIL" : "OK", detail: problem ? `${config.workerLog} not writable: ${problem} (OPS_LAUNCHER_LOG)` : `${config.workerLog} writable` });
  }
  for (const [name, dir, env] of [
    ["detached logs", config.logDir, "OPS_LAUNCHER_LOG_DIR"],
    ["state", config.stateDir, "OPS_LAUNCHER_STATE_DIR"],
  ] as const) {
    const problem = writableDir(dir);
    lines.push({ subject: name, status: problem ? "FAIL" : "OK", detail: problem ? `${dir} not writable: ${problem} (${env})` : `${dir} writable` });
  }
  return lines;
}

/** Everything the runbook's `npm run worker:doctor` checks, and the verdict. */
export async function runDoctor(config: LauncherConfig, api: ApiClient): Promise<DoctorReport> {
  const runtimes = await checkRuntimes(config);
  const lines = [...runtimes, ...(await checkApi(config, api)), ...checkFolders(config)];
  const missing = runtimes.filter((l) => l.status === "MISSING").map((l) => l.subject);
  const unauthenticated = runtimes.filter((l) => l.status === "NOT_AUTHENTICATED").map((l) => l.subject);
  const failed = lines.filter((l) => l.status === "FAIL").map((l) => l.subject);
  const pass = missing.length === 0 && unauthenticated.length === 0 && failed.length === 0;
  const parts = [
    ...(missing.length ? [`MISSING runtime: ${missing.join(", ")}`] : []),
    ...(unauthenticated.length ? [`installed but not authenticated: ${unauthenticated.join(", ")}`] : []),
    ...(failed.length ? [`failed: ${failed.join(", ")}`] : []),
  ];
  return { lines, pass, summary: pass ? "[doctor] PASS all runtimes available" : `[doctor] FAIL ${parts.join("; ")}` };
}

export function formatReport(report: DoctorReport, header: string): string {
  const width = Math.max(...report.lines.map((l) => l.subject.length), 10);
  const rows = report.lines.map((l) => `[doctor] ${l.subject.padEnd(width)}  ${l.status.padEnd(17)} ${l.detail}`);
  return [`[doctor] ${header}`, ...rows, report.summary].join("\n");
}

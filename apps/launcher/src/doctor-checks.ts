import { closeSync, mkdirSync, openSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { userInfo } from "node:os";
import { basename, join, resolve } from "node:path";
import { type ApiClient, describeError, opsCodeOf } from "./api.ts";
import { accessibleBy } from "./credentials.ts";
import { agentUserProblem, type LauncherConfig } from "./env.ts";
import { missingRuntimeReason, probeVersion, slugsWithoutHostCommand, surveyRuntimes } from "./runtimes.ts";
import { readOpsLaunchCommands } from "./usable-runtimes.ts";

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

/**
 * Runtime checks, one line per supported slug: resolved path and version, or
 * MISSING; credentials. Resolved as the daemon resolves them (surveyRuntimes),
 * an agent's launch_command in OPS included.
 */
export async function checkRuntimes(config: LauncherConfig, opsLaunchCommands: Readonly<Record<string, string>> = {}): Promise<DoctorLine[]> {
  const lines: DoctorLine[] = [];
  for (const a of surveyRuntimes(config, opsLaunchCommands)) {
    const slug = a.slug;
    if (a.state === "invalid_command") {
      lines.push({ subject: slug, status: "FAIL", detail: a.problem ?? "invalid command" });
      continue;
    }
    if (!a.command) {
      lines.push({ subject: slug, status: "MISSING", detail: a.problem ?? "no command" });
      continue;
    }
    if (!a.executable) {
      lines.push({ subject: slug, status: "MISSING", detail: `${a.command.program} not found on PATH (command from ${a.command.origin}): ${missingRuntimeReason(a.command.program)}` });
      continue;
    }
    const version = (await probeVersion(a.executable, config.agentBaseEnv, undefined, config.agentUser)) ?? "--version did not answer";
    if (!a.credentials.ok) {
      lines.push({ subject: slug, status: "NOT_AUTHENTICATED", detail: `${a.executable} (${version}): installed but not authenticated — ${a.credentials.detail}` });
      continue;
    }
    lines.push({ subject: slug, status: "OK", detail: `${a.executable} (${version}); credentials: ${a.credentials.detail}; command from ${a.command.origin}` });
  }
  return lines;
}

/**
 * Which credential this launcher sends, and whether it is kept as it should
 * be: a worker token in a file only the launcher's user reads (the doctor
 * runs as that user, as the runbook has it), never the service token, never
 * plain http to another host.
 */
export function checkCredential(config: LauncherConfig, uid: number | undefined = process.getuid?.()): DoctorLine[] {
  const { credential } = config;
  const lines: DoctorLine[] = [];
  if (credential.kind === "service") {
    lines.push({
      subject: "credential",
      status: "WARN",
      detail: "this launcher uses the service token (OPS_SERVICE_TOKEN), an instance-wide admin credential; issue it a worker token (POST /api/workers/tokens, or Ajustes → Workers) and set OPS_WORKER_TOKEN_FILE",
    });
  } else if (credential.source === "OPS_WORKER_TOKEN") {
    lines.push({
      subject: "credential",
      status: "WARN",
      detail: "worker token from OPS_WORKER_TOKEN: the environment stays readable in /proc/<pid>/environ for the launcher's life; put it in a file and set OPS_WORKER_TOKEN_FILE (or systemd LoadCredential=)",
    });
  } else {
    lines.push({ subject: "credential", status: "OK", detail: `worker token from ${credential.source}` });
  }
  if (credential.ignored.length > 0) {
    lines.push({ subject: "credential", status: "WARN", detail: `also set and ignored: ${credential.ignored.join(", ")} (in this shell or the env file); the launcher sends only the first, remove the others from its env file` });
  }
  if (credential.file) lines.push(checkTokenFile(credential.file, uid));
  if (config.insecureApi) {
    lines.push({
      subject: "api transport",
      status: "WARN",
      detail: `OPS_ALLOW_INSECURE_API=1: ${config.apiBase} is plain http to another host, so the token crosses the network readable; use https://`,
    });
  }
  return lines;
}

/** Not readable or writable by group or others (FAIL: chmod fixes it), owned by the user the doctor runs as (WARN). */
export function checkTokenFile(file: string, uid: number | undefined): DoctorLine {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(file);
  } catch (error) {
    return { subject: "token file", status: "FAIL", detail: `cannot stat ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}` };
  }
  const mode = (Number(st.mode) & 0o777).toString(8).padStart(4, "0");
  if ((Number(st.mode) & 0o077) !== 0) {
    return { subject: "token file", status: "FAIL", detail: `${file} is mode ${mode}: group or others can read it (an agent running as another user could); chmod 600 ${file}` };
  }
  if (uid !== undefined && Number(st.uid) !== uid) {
    return { subject: "token file", status: "WARN", detail: `${file} is owned by uid ${st.uid}, not by the launcher's user (uid ${uid}), who could not keep others from changing it; chown ${uid} ${file}` };
  }
  return { subject: "token file", status: "OK", detail: `${file} mode ${mode}, owned by uid ${st.uid}` };
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
      const hint =
        config.credential.kind === "service"
          ? "check ops_settings.service_api_token"
          : "the worker token is revoked or unknown; issue a new one (POST /api/workers/tokens, or Ajustes → Workers)";
      return [{ subject: "api", status: "FAIL", detail: `${config.apiBase} answers but rejected ${config.credential.source} (${code}); ${hint}` }];
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
  // The credential line (checkCredential) already says to replace the service token.
  const lines: DoctorLine[] = [{ subject: "api", status: "OK", detail: `${config.apiBase} answers; service token accepted` }];
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

/** The agents' launch commands in OPS, when a slug needs one (as the daemon reads them), or a line saying why they could not be read. */
async function opsCommandsFor(config: LauncherConfig, api: ApiClient): Promise<{ commands: Record<string, string>; lines: DoctorLine[] }> {
  const needed = slugsWithoutHostCommand(config);
  if (needed.length === 0) return { commands: {}, lines: [] };
  try {
    return { commands: await readOpsLaunchCommands(api), lines: [] };
  } catch (error) {
    return { commands: {}, lines: [{ subject: "launch commands", status: "WARN", detail: `could not read the agents' launch_command from OPS for ${needed.join(", ")}: ${describeError(error)}` }] };
  }
}

/** Shells, interpreters and program runners: any of them in OPS_ALLOWED_PROGRAMS runs whatever a launch_command says. */
const INTERPRETER = /^(sh|bash|dash|zsh|ksh|mksh|fish|csh|tcsh|busybox|env|sudo|su|doas|xargs|nohup|setsid|timeout|nice|stdbuf|script|ssh|python[0-9.]*|perl[0-9.]*|ruby[0-9.]*|node|nodejs|deno|bun|php[0-9.]*|lua[0-9.]*|tclsh[0-9.]*|awk|gawk)$/;

const insideOf = (path: string, root: string) => path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);

/**
 * Whom agents run as and what they can reach: OPS_AGENT_USER (a warning when
 * agents would run as the launcher's own user, root or not), the launcher's
 * env file, state, logs and worker log private from that user, the runtimes'
 * programs runnable by it; the working-folder roots (none holding the
 * launcher's files); OPS_ALLOWED_PROGRAMS without a shell or interpreter.
 */
export function checkIsolation(config: LauncherConfig, opts: { envFile?: string | undefined; uid?: number | undefined; executables?: string[] } = {}): DoctorLine[] {
  const lines: DoctorLine[] = [];
  const uid = opts.uid ?? process.getuid?.();
  const privatePaths = [
    ...(opts.envFile ? [["env file", opts.envFile] as const] : []),
    ["state", config.stateDir] as const,
    ["detached logs", config.logDir] as const,
    ...(config.workerLog !== "-" ? [["worker log", config.workerLog] as const] : []),
  ];
  const user = config.agentUser;
  if (!user) {
    let name = `uid ${uid}`;
    try {
      name = `${userInfo().username} (uid ${uid})`;
    } catch {
      // a uid without a passwd entry: the number says it
    }
    const who = uid === 0 ? "root" : name;
    lines.push({
      subject: "agent user",
      status: "WARN",
      detail: `agents run as ${who}, the launcher's own user: an agent can read the launcher's token (its /proc environ, its env file, its state folder); set OPS_AGENT_USER to an unprivileged user (useradd --system --create-home ops-agent)`,
    });
  } else {
    const problem = agentUserProblem(config, uid);
    if (problem) lines.push({ subject: "agent user", status: "FAIL", detail: problem });
    else {
      const exposed = privatePaths.filter(([, p]) => accessibleBy(p, user, 4) === true).map(([name, p]) => `${name} ${p}`);
      lines.push(
        exposed.length > 0
          ? { subject: "agent user", status: "FAIL", detail: `agents run as ${user.name}, who can read: ${exposed.join(", ")}; make them root-only (chmod 0600 files, 0700 folders)` }
          : { subject: "agent user", status: "OK", detail: `agents run as ${user.name} (uid ${user.uid}, gid ${user.gid}, primary group only), HOME ${user.home}; the launcher's files are not readable by it` },
      );
      for (const exe of opts.executables ?? []) {
        if (accessibleBy(exe, user, 1) === false) lines.push({ subject: "agent user", status: "WARN", detail: `${user.name} cannot run ${exe} (a folder on its path or the file is not open to it); install the CLI where agents can run it` });
      }
    }
  }
  const inside = privatePaths.filter(([, p]) => config.workdirRoots.some((root) => insideOf(resolve(p), root))).map(([name, p]) => `${name} ${p}`);
  lines.push(
    inside.length > 0
      ? { subject: "workdir roots", status: "WARN", detail: `OPS_WORKDIR_ROOTS (${config.workdirRoots.join(", ")}) holds the launcher's ${inside.join(", ")}: a task could name it as its working folder` }
      : { subject: "workdir roots", status: "OK", detail: `working folders must resolve under ${config.workdirRoots.join(", ")}; a task without one gets ${join(config.workdirRoots[0]!, "task-<id>")}` },
  );
  const interpreters = config.allowedPrograms.filter((p) => INTERPRETER.test(basename(p)));
  lines.push(
    interpreters.length > 0
      ? {
          subject: "allowed programs",
          status: "WARN",
          detail: `${config.allowedProgramsSource === "default" ? "AGENT_CMD_* names" : "OPS_ALLOWED_PROGRAMS includes"} ${interpreters.join(", ")}: a shell or interpreter lets an agent's launch_command in OPS run anything; allow the agent CLIs themselves`,
        }
      : { subject: "allowed programs", status: "OK", detail: `an agent's launch_command in OPS may run: ${config.allowedPrograms.join(", ")} (${config.allowedProgramsSource})` },
  );
  return lines;
}

/** Everything the runbook's `npm run worker:doctor` checks, and the verdict. */
export async function runDoctor(config: LauncherConfig, api: ApiClient, opts: { envFile?: string | undefined } = {}): Promise<DoctorReport> {
  const ops = await opsCommandsFor(config, api);
  const survey = surveyRuntimes(config, ops.commands);
  const runtimes = [...ops.lines, ...(await checkRuntimes(config, ops.commands))];
  const executables = survey.flatMap((a) => (a.executable ? [a.executable] : []));
  const lines = [
    ...runtimes,
    ...checkCredential(config),
    ...(await checkApi(config, api)),
    ...checkFolders(config),
    ...checkIsolation(config, { envFile: opts.envFile, executables }),
  ];
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

import { basename, isAbsolute, join } from "node:path";
import { expandTemplate, readsPromptFromStdin, type TNextResult, TemplateError } from "@ops/contract";
import { envKeyOf, type LauncherConfig } from "./env.ts";
import { buildPrompt } from "./prompt.ts";
import { missingRuntimeReason, type ResolvedCommand, resolveCommand } from "./runtimes.ts";

export type Claim = Extract<TNextResult, { claimed: true }>;

/** The contract caps each reported argv element; the prompt itself is in the .prompt.md file. */
const MAX_REPORTED_ARG = 2000;

export interface LogFiles {
  logPath: string;
  errLogPath: string;
  exitPath: string;
  promptPath: string;
}

/** `<task>-<timestamp>` names, sortable and unique per launch. */
export function logFilesFor(logDir: string, taskId: number, now = new Date()): LogFiles {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.(\d+)Z$/, "$1Z");
  const base = join(logDir, `${taskId}-${stamp}`);
  return { logPath: `${base}.log`, errLogPath: `${base}.err.log`, exitPath: `${base}.exit`, promptPath: `${base}.prompt.md` };
}

/** What planning asks of the host, injected so that the plan itself is a pure function. */
export interface LaunchHost {
  /** The absolute path a program resolves to on the launcher's PATH, if any. */
  findOnPath(program: string): string | undefined;
  /** Why a folder cannot be the agent's working directory (`not a directory`, `ENOENT`), or undefined when it can. */
  workdirProblem(dir: string): string | undefined;
  /** The real path (symlinks followed) of an existing path, or undefined. */
  realpath(path: string): string | undefined;
  /** When the launch happens: it names the run's log files. */
  now: Date;
}

/** Everything needed to start one claimed task. */
export interface LaunchPlan {
  taskId: number;
  attempt: number;
  slug: string;
  command: ResolvedCommand;
  /** What is executed: the resolved program, then the template's arguments. */
  argv: string[];
  /** The expanded template as written, long arguments shortened: what the started report shows. */
  reportedCommand: string[];
  env: Record<string, string>;
  workdir: string;
  /** The working folder is the task's own default one (`<first root>/task-<id>`): created, owned by the agent user, before the start. */
  createWorkdir: boolean;
  /** The Unix user the agent runs as (OPS_AGENT_USER); undefined: the launcher's own. */
  runAs?: { uid: number; gid: number } | undefined;
  /** The prompt file the agent is told about ({prompt_file}, OPS_TASK_PROMPT_FILE): its own copy when it runs as another user. */
  agentPromptPath: string;
  prompt: string;
  files: LogFiles;
  /** The file the agent reads as stdin: its prompt, for a `< {prompt_file}` template; none (/dev/null) otherwise. */
  stdinPath?: string;
}

/** Why a claimed task cannot be launched: the task's blocked reason, and evidence for its blocker entry. */
export interface LaunchRefusal {
  reason: string;
  evidence?: string;
  /** The run's reason code (RUN_REASON_CODES), when the refusal has one of its own. */
  code?: string;
}

export type LaunchPlanResult = { ok: true; plan: LaunchPlan } | ({ ok: false } & LaunchRefusal);

const refuse = (reason: string, evidence?: string, code?: string): LaunchPlanResult => ({ ok: false, reason, ...(evidence ? { evidence } : {}), ...(code ? { code } : {}) });

/** Whether an OPS launch_command's program (resolved to an absolute path) is one OPS_ALLOWED_PROGRAMS (or its default) allows here. */
export function programAllowed(executable: string, config: Pick<LauncherConfig, "allowedPrograms">, host: Pick<LaunchHost, "findOnPath" | "realpath">): boolean {
  const real = host.realpath(executable) ?? executable;
  return config.allowedPrograms.some((entry) => {
    const allowed = entry.includes("/") ? entry : host.findOnPath(entry);
    return allowed !== undefined && (allowed === executable || (host.realpath(allowed) ?? allowed) === real);
  });
}

const insideOf = (path: string, root: string) => path === root || path.startsWith(root.endsWith("/") ? root : `${root}/`);

/**
 * The agent's working folder: the task's, else its agent's, resolved with
 * symlinks followed and required under one of OPS_WORKDIR_ROOTS; else the
 * task's own `<first root>/task-<id>`, created at start.
 */
export function resolveWorkdir(
  requested: string | null | undefined,
  taskId: number,
  config: Pick<LauncherConfig, "workdirRoots">,
  host: Pick<LaunchHost, "workdirProblem" | "realpath">,
): { ok: true; workdir: string; create: boolean } | ({ ok: false } & LaunchRefusal) {
  const roots = config.workdirRoots;
  if (requested === null || requested === undefined || requested === "") return { ok: true, workdir: join(roots[0]!, `task-${taskId}`), create: true };
  if (requested.startsWith("-")) return { ok: false, reason: `refusing working folder "${requested}": it would read as an option`, code: "WORKDIR_NOT_ALLOWED" };
  if (!isAbsolute(requested)) return { ok: false, reason: `refusing working folder "${requested}": not an absolute path`, code: "WORKDIR_NOT_ALLOWED" };
  const problem = host.workdirProblem(requested);
  if (problem) return { ok: false, reason: `working directory not usable: ${requested} (${problem})` };
  const real = host.realpath(requested) ?? requested;
  if (!roots.some((root) => insideOf(real, host.realpath(root) ?? root))) {
    return {
      ok: false,
      reason: `working folder ${requested}${real !== requested ? ` (resolves to ${real})` : ""} is outside this host's OPS_WORKDIR_ROOTS (${roots.join(", ")})`,
      code: "WORKDIR_NOT_ALLOWED",
    };
  }
  return { ok: true, workdir: real, create: false };
}

/**
 * From a claim and this launcher's configuration to the command, argv, env
 * and working directory of the agent, or the reason it cannot run here. The
 * command comes from the agent's launch_command in OPS, then AGENT_CMD_<SLUG>,
 * then the built-in map; a program not on PATH is the runbook's
 * `runtime no disponible en host: <cli>`. The host bounds what OPS asks: an
 * OPS launch_command's program must be allowed (OPS_ALLOWED_PROGRAMS), the
 * working folder must resolve under OPS_WORKDIR_ROOTS. The environment is
 * config.agentBaseEnv (an allowlist) plus the task's own variables.
 */
export function planLaunch(claim: Claim, config: LauncherConfig, host: LaunchHost): LaunchPlanResult {
  const { task, agent, attempt } = claim;
  let command: ResolvedCommand | undefined;
  try {
    command = resolveCommand(agent.slug, agent.launch_command, config);
  } catch (error) {
    if (!(error instanceof TemplateError)) throw error;
    return refuse(`invalid launch command for agent ${agent.slug}: ${error.message}`, `launch_command in OPS: ${agent.launch_command}`);
  }
  if (!command) return refuse(`no launch command for agent ${agent.slug} on ${config.workerId}: set ${envKeyOf("AGENT_CMD_", agent.slug)} or the agent's launch_command`);
  const executable = host.findOnPath(command.program);
  if (!executable) {
    return refuse(missingRuntimeReason(command.program), `command (${command.origin}): ${command.template}\nworker: ${config.workerId}\nPATH=${config.path}`);
  }
  // What OPS asks a host to run is bounded by the host: the runtimes' binaries, AGENT_CMD_*'s programs, or OPS_ALLOWED_PROGRAMS.
  if (command.source === "ops" && !programAllowed(executable, config, host)) {
    return refuse(
      `launch_command program ${executable} is not allowed on this host; add it to OPS_ALLOWED_PROGRAMS`,
      `launch_command in OPS: ${command.template}\nworker: ${config.workerId}\nallowed programs (${config.allowedProgramsSource}): ${config.allowedPrograms.join(", ")}`,
      "PROGRAM_NOT_ALLOWED",
    );
  }
  const model = task.model ?? agent.default_model ?? "";
  if (model.startsWith("-")) return refuse(`refusing model name "${model}": it would read as an option`);
  const where = resolveWorkdir(task.working_dir ?? agent.working_dir, task.id, config, host);
  if (!where.ok) return refuse(where.reason, where.evidence ?? `worker: ${config.workerId}\nOPS_WORKDIR_ROOTS=${config.workdirRoots.join(",")}`, where.code);
  const workdir = where.workdir;

  const prompt = buildPrompt({ task, context: claim.context, apiBase: config.apiBase, attempt });
  const files = logFilesFor(config.logDir, task.id, host.now);
  // An agent user cannot read the launcher's log folder: it gets its own copy of the prompt.
  const agentPromptPath = config.agentPromptDir ? join(config.agentPromptDir, basename(files.promptPath)) : files.promptPath;
  const expanded = expandTemplate(command.words, {
    prompt,
    prompt_file: agentPromptPath,
    task_id: String(task.id),
    attempt: String(attempt),
    model,
    workdir,
  });
  return {
    ok: true,
    plan: {
      taskId: task.id,
      attempt,
      slug: agent.slug,
      command,
      argv: [executable, ...expanded.slice(1)],
      reportedCommand: expanded.map((a) => (a.length > MAX_REPORTED_ARG ? `${a.slice(0, 200)}… (${a.length} chars; full text in ${files.promptPath})` : a)),
      env: {
        ...config.agentBaseEnv,
        OPS_API_BASE: config.apiBase,
        OPS_TASK_ID: String(task.id),
        OPS_TASK_ATTEMPT: String(attempt),
        OPS_TASK_TOKEN: claim.task_token,
        OPS_TASK_PROMPT_FILE: agentPromptPath,
      },
      workdir,
      createWorkdir: where.create,
      runAs: config.agentUser ? { uid: config.agentUser.uid, gid: config.agentUser.gid } : undefined,
      agentPromptPath,
      prompt,
      files,
      ...(readsPromptFromStdin(command.words) ? { stdinPath: files.promptPath } : {}),
    },
  };
}

import { join } from "node:path";
import type { TNextResult } from "@ops/contract";
import { expandTemplate, readsPromptFromStdin, TemplateError } from "./argv.ts";
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
  prompt: string;
  files: LogFiles;
  /** The file the agent reads as stdin: its prompt, for a `< {prompt_file}` template; none (/dev/null) otherwise. */
  stdinPath?: string;
}

/** Why a claimed task cannot be launched: the task's blocked reason, and evidence for its blocker entry. */
export interface LaunchRefusal {
  reason: string;
  evidence?: string;
}

export type LaunchPlanResult = { ok: true; plan: LaunchPlan } | ({ ok: false } & LaunchRefusal);

const refuse = (reason: string, evidence?: string): LaunchPlanResult => ({ ok: false, reason, ...(evidence ? { evidence } : {}) });

/**
 * From a claim and this launcher's configuration to the command, argv, env
 * and working directory of the agent, or the reason it cannot run here. The
 * command comes from the agent's launch_command in OPS, then AGENT_CMD_<SLUG>,
 * then the built-in map; a program not on PATH is the runbook's
 * `runtime no disponible en host: <cli>`.
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
  const model = task.model ?? agent.default_model ?? "";
  if (model.startsWith("-")) return refuse(`refusing model name "${model}": it would read as an option`);
  const workdir = task.working_dir ?? agent.working_dir ?? config.defaultWorkdir;
  const workdirProblem = host.workdirProblem(workdir);
  if (workdirProblem) return refuse(`working directory not usable: ${workdir} (${workdirProblem})`);

  const prompt = buildPrompt({ task, context: claim.context, apiBase: config.apiBase, attempt });
  const files = logFilesFor(config.logDir, task.id, host.now);
  const expanded = expandTemplate(command.words, {
    prompt,
    prompt_file: files.promptPath,
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
        OPS_TASK_PROMPT_FILE: files.promptPath,
      },
      workdir,
      prompt,
      files,
      ...(readsPromptFromStdin(command.words) ? { stdinPath: files.promptPath } : {}),
    },
  };
}

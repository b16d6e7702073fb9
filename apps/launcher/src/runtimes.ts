import { execFile } from "node:child_process";
import { accessSync, constants, statSync } from "node:fs";
import { delimiter, isAbsolute, join } from "node:path";
import { parseTemplate, programOf, type TRuntimeState, type Word } from "@ops/contract";
import { builtinCredentialRule, checkCredentials, type CredentialResult } from "./credentials.ts";
import { envKeyOf, type LauncherConfig } from "./env.ts";

/** The runbook's failure signature for a CLI this host lacks, exactly. */
export const missingRuntimeReason = (cli: string) => `runtime no disponible en host: ${cli}`;

/**
 * Each CLI's real non-interactive mode (run for real, against a scripted model
 * server, by apps/launcher/test/real-clis.test.ts with the versions
 * scripts/install-agent-clis.sh pins). They run unattended, so each is told to
 * act without asking; the agent needs network to report to OPS with curl.
 * The prompt goes in on stdin (`< {prompt_file}`), not in argv, where any
 * local user could read the task's text with `ps`: `claude -p` and `opencode
 * run` read stdin when given no message, `codex exec -` reads it by name.
 * Hermes (no npm package to check against) keeps the prompt in argv.
 */
export const BUILTIN_COMMANDS: Record<string, string> = {
  codex:
    "codex exec --skip-git-repo-check --sandbox workspace-write -c sandbox_workspace_write.network_access=true -C {workdir} [--model {model}] - < {prompt_file}",
  opencode: "opencode run --dir {workdir} [--model {model}] < {prompt_file}",
  claudecode: "claude -p --output-format text --permission-mode acceptEdits [--model {model}] --allowedTools Bash Read Edit Write Glob Grep < {prompt_file}",
  hermes: "hermes chat -Q --yolo [--model {model}] -q {prompt}",
};

export type CommandSource = "ops" | "env" | "builtin";
export interface ResolvedCommand {
  source: CommandSource;
  /** Where it came from, for logs: `launch_command in OPS`, `AGENT_CMD_CODEX`, `built-in`. */
  origin: string;
  template: string;
  words: Word[];
  program: string;
}

/** OPS launch_command, then AGENT_CMD_<SLUG>, then the built-in map. */
export function resolveCommand(slug: string, launchCommand: string | null | undefined, config: LauncherConfig): ResolvedCommand | undefined {
  if (launchCommand?.trim()) {
    const words = parseTemplate(launchCommand);
    return { source: "ops", origin: "launch_command in OPS", template: launchCommand, words, program: programOf(words) };
  }
  const env = config.commands[slug];
  if (env) return { source: "env", origin: env.source, template: env.template, words: env.words, program: programOf(env.words) };
  const builtin = BUILTIN_COMMANDS[slug];
  if (builtin) {
    const words = parseTemplate(builtin);
    return { source: "builtin", origin: "built-in", template: builtin, words, program: programOf(words) };
  }
  return undefined;
}

function isExecutableFile(path: string): boolean {
  try {
    accessSync(path, constants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/** `which`: the absolute path a program resolves to on this PATH, if any. */
export function findOnPath(program: string, pathEnv: string, cwd = process.cwd()): string | undefined {
  if (program.includes("/")) {
    const p = isAbsolute(program) ? program : join(cwd, program);
    return isExecutableFile(p) ? p : undefined;
  }
  for (const dir of pathEnv.split(delimiter)) {
    if (!dir) continue;
    const candidate = join(dir, program);
    if (isExecutableFile(candidate)) return candidate;
  }
  return undefined;
}

/**
 * First line of `<cli> --version`, or undefined when it does not answer in
 * time. Run as the agent user when there is one (`runAs`), from `/`: the
 * program is the agents', possibly in a folder they can write, and root must
 * never run what an agent could have replaced.
 */
export function probeVersion(
  executable: string,
  env: Record<string, string>,
  timeoutMs = 10_000,
  runAs?: { uid: number; gid: number } | undefined,
): Promise<string | undefined> {
  return new Promise((resolveVersion) => {
    const as = runAs ? { uid: runAs.uid, gid: runAs.gid, cwd: "/" } : {};
    try {
      execFile(executable, ["--version"], { timeout: timeoutMs, env, maxBuffer: 64 * 1024, ...as }, (error, stdout, stderr) => {
        const line = `${stdout}\n${stderr}`.split("\n").map((l) => l.trim()).find(Boolean);
        resolveVersion(error && !line ? undefined : line?.slice(0, 200));
      });
    } catch {
      // Not allowed to switch to the agent user (a doctor run by hand as someone else): no version.
      resolveVersion(undefined);
    }
  });
}

export interface RuntimeAssessment {
  slug: string;
  command?: ResolvedCommand;
  /** Absolute path of the program, when it resolves. */
  executable?: string;
  credentials: CredentialResult;
  usable: boolean;
  /** What the heartbeat says of it: usable, or why not in one word. */
  state: TRuntimeState["state"];
  /** Why not usable, in words. */
  problem?: string;
}

/** Usable = a command for the slug, its program on PATH, and credentials present. */
export function assessRuntime(slug: string, config: LauncherConfig, launchCommand?: string | null): RuntimeAssessment {
  const rule = config.credentialRules[slug] ?? builtinCredentialRule(slug, config.agentHome);
  const credentials = checkCredentials(rule, config.agentBaseEnv, config.agentUser);
  let command: ResolvedCommand | undefined;
  try {
    command = resolveCommand(slug, launchCommand, config);
  } catch (error) {
    return { slug, credentials, usable: false, state: "invalid_command", problem: `invalid command: ${(error as Error).message}` };
  }
  if (!command) {
    return { slug, credentials, usable: false, state: "missing", problem: `no command: set ${envKeyOf("AGENT_CMD_", slug)} or the agent's launch_command in OPS` };
  }
  const executable = findOnPath(command.program, config.path);
  if (!executable) return { slug, command, credentials, usable: false, state: "missing", problem: missingRuntimeReason(command.program) };
  if (!credentials.ok) {
    return {
      slug,
      command,
      executable,
      credentials,
      usable: false,
      state: "not_authenticated",
      problem: `installed but not authenticated (${credentials.detail}; override with ${envKeyOf("AGENT_CREDENTIALS_", slug)})`,
    };
  }
  return { slug, command, executable, credentials, usable: true, state: "usable" };
}

/** Whether this host has its own command for a slug (AGENT_CMD_<SLUG> or a built-in), without OPS. */
export const hostCommandOf = (slug: string, config: LauncherConfig) => config.commands[slug]?.template ?? BUILTIN_COMMANDS[slug];

/**
 * Every supported slug assessed the way the daemon runs it: a slug this host
 * has no command for is assessed through its agent's launch_command in OPS
 * (runbook 1: "set explicit launch_command in OPS"). The daemon's heartbeat
 * and `worker:doctor` both use this, so they cannot disagree.
 */
export function surveyRuntimes(config: LauncherConfig, opsLaunchCommands: Readonly<Record<string, string>>): RuntimeAssessment[] {
  return config.slugs.map((slug) => assessRuntime(slug, config, hostCommandOf(slug, config) ? undefined : opsLaunchCommands[slug]));
}

/** The slugs that need an agent's launch_command from OPS to be assessed at all. */
export const slugsWithoutHostCommand = (config: LauncherConfig) => config.slugs.filter((slug) => !hostCommandOf(slug, config));

/**
 * The values of the credential environment variables of the supported
 * runtimes (their rules' `env:` names): output redaction replaces them.
 */
export function runtimeCredentialValues(config: LauncherConfig): string[] {
  const values: string[] = [];
  for (const slug of config.slugs) {
    const rule = config.credentialRules[slug] ?? builtinCredentialRule(slug, config.agentHome);
    for (const check of rule) {
      const value = check.kind === "env" ? config.agentBaseEnv[check.name] : undefined;
      if (value) values.push(value);
    }
  }
  return values;
}

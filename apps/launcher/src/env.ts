import { existsSync, readFileSync } from "node:fs";
import { hostname, homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import {
  defaultIntSetting,
  programOf,
  WORKER_ID_PATTERN,
  ZModelName,
  ZSlug,
  ZWorkerId,
} from "@ops/contract";
import { z } from "zod";
import { parseTemplate, TemplateError, type Word } from "@ops/contract";
import { agentEnvironment, launcherOnlyVariable } from "./agent-env.ts";
import { type CredentialRule, expandHome, parseCredentialRule } from "./credentials.ts";
import { CREDENTIAL_ENV_KEYS, type LauncherCredential, resolveCredential } from "./launcher-credential.ts";
import { lookupUnixUser, type UnixUser } from "./unix-user.ts";

/** The four runtimes the runbook names; any other slug works through AGENT_CMD_<SLUG>. */
export const DEFAULT_SLUGS = ["opencode", "claudecode", "codex", "hermes"] as const;

/** The API's default for dispatch_worker_stale_seconds: heartbeats must fit three times inside it. */
const WORKER_STALE_MS = defaultIntSetting("dispatch_worker_stale_seconds") * 1000;
const MAX_HEARTBEAT_INTERVAL_MS = Math.floor(WORKER_STALE_MS / 3);

/**
 * A comma-separated list whose items must pass the contract's schema for them,
 * so the launcher refuses at start what the API would refuse on every heartbeat.
 */
const commaList = (item: z.ZodType<string>, invalid: (value: string) => string) =>
  z
    .string()
    .optional()
    .transform((v, ctx) => {
      const items = (v ?? "")
        .split(",")
        .map((s) => s.trim())
        .filter(Boolean);
      for (const value of items) if (!item.safeParse(value).success) ctx.addIssue({ code: "custom", message: invalid(value) });
      return items;
    });

const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** The env name that configures a slug: `my-agent` → `AGENT_CMD_MY_AGENT`. */
export const envKeyOf = (prefix: string, slug: string) => `${prefix}${slug.toUpperCase().replace(/-/g, "_")}`;

function defaultWorkerId(): string {
  const cleaned = [...hostname()].map((ch) => (WORKER_ID_PATTERN.test(ch) ? ch : "-")).join("") || "worker";
  return `${cleaned}-launcher`;
}

const API_BASE_ERROR = "must be the REST base URL ending in /api, e.g. http://127.0.0.1:3847/api";

/**
 * The tRPC endpoint that serves beside a REST base: the base's origin and its
 * path with the trailing `/api` replaced by `/trpc` (`http://host:3847/api` →
 * `http://host:3847/trpc`; behind a proxy, `https://ops.example/ops/api` →
 * `https://ops.example/ops/trpc`). Undefined for a base it cannot come from:
 * not http(s), no trailing `/api`, or carrying credentials, a query or a
 * fragment (fetch refuses the first; the others would be dropped silently).
 */
export function trpcUrlOf(apiBase: string): string | undefined {
  let url: URL;
  try {
    url = new URL(apiBase);
  } catch {
    return undefined;
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
  if (url.username || url.password || url.search || url.hash) return undefined;
  const path = url.pathname.replace(/\/$/, "");
  if (!path.endsWith("/api")) return undefined;
  return `${url.origin}${path.slice(0, -"/api".length)}/trpc`;
}

/**
 * Whether a host is this machine: 127.0.0.0/8, ::1 or localhost. Only there
 * may the launcher talk plain http, since nothing between it and the API can
 * read the token on the way.
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.replace(/^\[|\]$/g, "").toLowerCase();
  if (host === "localhost" || host === "::1" || host === "0:0:0:0:0:0:0:1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

const INSECURE_API_ERROR =
  "sends the launcher's token in clear text to a host that is not this machine: use https://, or set OPS_ALLOW_INSECURE_API=1 on a network you trust (worker:doctor warns about it)";

/**
 * Drops the launcher's credential variables from its own environment once
 * read, so no child process (agent, --version probe, anything spawned with the
 * default env) inherits them. The kernel's copy in /proc/<pid>/environ stays
 * as it was at exec, readable only by this user and root: hence files first.
 */
export function dropCredentialEnv(env: NodeJS.ProcessEnv = process.env): void {
  for (const key of CREDENTIAL_ENV_KEYS) delete env[key];
}

const ZRawEnv = z.object({
  OPS_API_BASE: z
    .string()
    .default("http://127.0.0.1:3847/api")
    .transform((v, ctx) => {
      const trpcUrl = trpcUrlOf(v);
      if (trpcUrl === undefined) {
        ctx.addIssue({ code: "custom", message: API_BASE_ERROR });
        return z.NEVER;
      }
      return { apiBase: v.replace(/\/$/, ""), trpcUrl };
    }),
  /** http:// to a host that is not this machine; refused unless set (the doctor warns). */
  OPS_ALLOW_INSECURE_API: z
    .enum(["", "0", "1", "false", "true"], { error: "must be 1 (allow http:// to a non-loopback API) or 0" })
    .optional()
    .transform((v) => v === "1" || v === "true"),
  SUPPORTED_AGENT_SLUGS: commaList(ZSlug, (s) => `"${s}" is not a valid slug (lowercase letters, digits, - and _)`).transform((slugs) =>
    slugs.length > 0 ? [...new Set(slugs)] : [...DEFAULT_SLUGS],
  ),
  SUPPORTED_MODELS: commaList(ZModelName, (m) => `"${m}" is not a valid model filter (e.g. qwen*,gpt-*)`),
  OPS_WORKER_ID: z
    .string()
    .optional()
    .transform((v) => v || defaultWorkerId())
    .refine((v) => ZWorkerId.safeParse(v).success, { error: "may contain letters, digits and . _ : @ - only (max 200)" }),
  /** Well inside dispatch_worker_stale_seconds: a late heartbeat gets the worker's tasks reconciled. */
  OPS_HEARTBEAT_INTERVAL_MS: int(15_000, 200, 60_000),
  OPS_MAX_CONCURRENT: int(2, 1, 256),
  /** Long-poll wait for dispatch/next (the API caps it at 30 s). */
  OPS_POLL_WAIT_MS: int(25_000, 0, 30_000),
  /** A non-zero exit within this window is reported as `launcher process exited early`. */
  OPS_EARLY_EXIT_MS: int(10_000, 0, 600_000),
  /** Grace between SIGTERM and SIGKILL when stopping a cancelled agent. */
  OPS_STOP_GRACE_MS: int(10_000, 0, 600_000),
  OPS_LAUNCHER_LOG: z.string().default("/var/log/ops-dispatch-launcher.log"),
  OPS_LAUNCHER_LOG_DIR: z.string().default("~/.ops-launcher-logs"),
  OPS_LAUNCHER_STATE_DIR: z.string().default("~/.ops-launcher-state"),
  /** Files of finished launches in OPS_LAUNCHER_LOG_DIR are removed this many days after their last write. */
  OPS_LAUNCHER_LOG_RETENTION_DAYS: int(14, 1, 3650),
  /** Deprecated alias of a one-folder OPS_WORKDIR_ROOTS (read only when that is unset). */
  OPS_DEFAULT_WORKDIR: z.string().optional(),
  /** The Unix user agents run as (the launcher must be root to switch); unset = the launcher's own user. */
  OPS_AGENT_USER: z.string().optional(),
  /** Folders agents may work in (comma-separated absolute paths); default ~/ops-workdirs of the agent user. */
  OPS_WORKDIR_ROOTS: z.string().optional(),
  /** Programs an agent's launch_command in OPS may run (names or absolute paths); default: the runtimes' and AGENT_CMD_*'s. */
  OPS_ALLOWED_PROGRAMS: z.string().optional(),
  /** Extra environment variables agents receive (comma-separated names, `PREFIX_*` allowed). */
  OPS_AGENT_ENV_ALLOW: z.string().optional(),
  HOME: z.string().optional(),
  PATH: z.string().default("/usr/local/bin:/usr/bin:/bin"),
});

export interface LauncherConfig {
  apiBase: string;
  trpcUrl: string;
  /** The one credential the launcher sends (worker token, or the service token as a fallback). */
  credential: LauncherCredential;
  /** OPS_ALLOW_INSECURE_API=1 and the API is reached by http:// on another host: the doctor warns. */
  insecureApi: boolean;
  slugs: string[];
  models: string[];
  workerId: string;
  heartbeatIntervalMs: number;
  maxConcurrent: number;
  pollWaitMs: number;
  earlyExitMs: number;
  stopGraceMs: number;
  /** Worker log file; "-" logs to stderr only. */
  workerLog: string;
  logDir: string;
  logRetentionDays: number;
  stateDir: string;
  /** Folders a task's working folder must resolve under; a task without one gets `<first>/task-<id>`. */
  workdirRoots: string[];
  /** The Unix user agents run as (OPS_AGENT_USER), or undefined: the launcher's own. */
  agentUser?: UnixUser | undefined;
  /** The agents' HOME: the agent user's, else the launcher's. Credential files (`~/.claude/...`) are looked up here. */
  agentHome: string;
  /** Where an agent user's copy of its prompt goes (the log folder stays the launcher's); undefined without OPS_AGENT_USER. */
  agentPromptDir?: string | undefined;
  /** What an agent's launch_command in OPS may run on this host: names (looked up on PATH) or absolute paths. */
  allowedPrograms: string[];
  /** Whether allowedPrograms is the operator's list or the default (the runtimes' binaries and AGENT_CMD_* programs). */
  allowedProgramsSource: "OPS_ALLOWED_PROGRAMS" | "default";
  home: string;
  path: string;
  /** AGENT_CMD_<SLUG>, parsed, by slug. */
  commands: Record<string, { source: string; template: string; words: Word[] }>;
  /** AGENT_CREDENTIALS_<SLUG> overrides, by slug. */
  credentialRules: Record<string, CredentialRule>;
  /** The environment agents get, before the task's own variables: an allowlist (see agentEnvironment). */
  agentBaseEnv: Record<string, string>;
}

/** What loading the configuration asks of the host, injectable for tests. */
export interface ConfigHost {
  lookupUser(name: string): UnixUser | undefined;
}

const systemHost: ConfigHost = { lookupUser: lookupUnixUser };

const splitList = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);

/** The runtimes' own binaries: allowed for an OPS launch_command by default. */
export const RUNTIME_PROGRAMS = ["opencode", "claude", "codex", "hermes"] as const;

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

/** Reads and validates the launcher's environment: the only place that reads process.env. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env, host: ConfigHost = systemHost): LauncherConfig {
  const problems: string[] = [];
  const parsed = ZRawEnv.safeParse(source);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) problems.push(`${issue.path.join(".")}: ${issue.message}`);
    throw new ConfigError(problems);
  }
  const raw = parsed.data;
  const { credential, problems: credentialProblems } = resolveCredential(source);
  problems.push(...credentialProblems);
  const apiUrl = new URL(raw.OPS_API_BASE.apiBase);
  const insecureApi = apiUrl.protocol === "http:" && !isLoopbackHost(apiUrl.hostname);
  if (insecureApi && !raw.OPS_ALLOW_INSECURE_API) problems.push(`OPS_API_BASE: http://${apiUrl.host} ${INSECURE_API_ERROR}`);
  const home = raw.HOME || homedir();
  // pnpm runs scripts in the package folder: relative paths mean where the operator ran the command.
  const base = source.INIT_CWD ?? process.cwd();
  const path = (name: string, value: string) => {
    const p = expandHome(value, home);
    if (p === "-" && name === "OPS_LAUNCHER_LOG") return p;
    return isAbsolute(p) ? p : resolve(base, p);
  };

  let agentUser: UnixUser | undefined;
  const agentUserName = raw.OPS_AGENT_USER?.trim();
  if (agentUserName) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*\$?$/.test(agentUserName)) problems.push(`OPS_AGENT_USER: "${agentUserName}" is not a Unix user name`);
    else {
      agentUser = host.lookupUser(agentUserName);
      if (!agentUser) problems.push(`OPS_AGENT_USER: no Unix user "${agentUserName}" on this host; create it (useradd --system --create-home ${agentUserName}) or unset OPS_AGENT_USER`);
      else if (agentUser.uid === 0) {
        problems.push(`OPS_AGENT_USER: "${agentUserName}" is root (uid 0): agents would hold the launcher's powers; name an unprivileged user`);
        agentUser = undefined;
      } else if (!isAbsolute(agentUser.home)) problems.push(`OPS_AGENT_USER: "${agentUserName}" has no home folder`);
    }
  }
  const agentHome = agentUser?.home ?? home;

  const commands: LauncherConfig["commands"] = {};
  const allCommandPrograms: string[] = [];
  const credentialRules: LauncherConfig["credentialRules"] = {};
  for (const [key, value] of Object.entries(source)) {
    const cmd = /^AGENT_CMD_([A-Z0-9_]+)$/.exec(key);
    if (cmd && value !== undefined && value.trim() !== "") {
      try {
        const words = parseTemplate(value);
        commands[cmd[1]!.toLowerCase().replace(/_/g, "-")] = { source: key, template: value, words };
        allCommandPrograms.push(programOf(words));
      } catch (error) {
        if (error instanceof TemplateError) problems.push(`${key}: ${error.message}`);
        else throw error;
      }
    }
    const cred = /^AGENT_CREDENTIALS_([A-Z0-9_]+)$/.exec(key);
    if (cred && value !== undefined && value.trim() !== "") {
      try {
        credentialRules[cred[1]!.toLowerCase().replace(/_/g, "-")] = parseCredentialRule(value, agentHome);
      } catch (error) {
        problems.push(`${key}: ${(error as Error).message}`);
      }
    }
  }
  // Env names cannot hold '-', and slugs may use '-' or '_': look both spellings up by slug.
  const byEnvKey = (rec: Record<string, unknown>, slug: string) => rec[slug] ?? rec[slug.replace(/_/g, "-")];
  const slugCommands: LauncherConfig["commands"] = {};
  const slugRules: LauncherConfig["credentialRules"] = {};
  for (const slug of raw.SUPPORTED_AGENT_SLUGS) {
    const c = byEnvKey(commands, slug) as LauncherConfig["commands"][string] | undefined;
    if (c) slugCommands[slug] = c;
    const r = byEnvKey(credentialRules, slug) as CredentialRule | undefined;
    if (r) slugRules[slug] = r;
  }

  if (raw.OPS_HEARTBEAT_INTERVAL_MS > MAX_HEARTBEAT_INTERVAL_MS) {
    problems.push(
      `OPS_HEARTBEAT_INTERVAL_MS: must leave room for two missed beats inside the ${WORKER_STALE_MS / 1000} s stale threshold (max ${MAX_HEARTBEAT_INTERVAL_MS})`,
    );
  }
  // Working folders: OPS_WORKDIR_ROOTS, else the deprecated OPS_DEFAULT_WORKDIR as the one root, else ~/ops-workdirs of the agent user.
  const rootsText = raw.OPS_WORKDIR_ROOTS?.trim() ? raw.OPS_WORKDIR_ROOTS : raw.OPS_DEFAULT_WORKDIR?.trim() ? raw.OPS_DEFAULT_WORKDIR : "~/ops-workdirs";
  const rootsVar = raw.OPS_WORKDIR_ROOTS?.trim() ? "OPS_WORKDIR_ROOTS" : raw.OPS_DEFAULT_WORKDIR?.trim() ? "OPS_DEFAULT_WORKDIR" : "OPS_WORKDIR_ROOTS";
  const workdirRoots: string[] = [];
  for (const item of splitList(rootsText)) {
    const p = expandHome(item, agentHome);
    if (!isAbsolute(p)) problems.push(`${rootsVar}: "${item}" must be an absolute path (or start with ~/)`);
    else if (resolve(p) === "/") problems.push(`${rootsVar}: "/" would let a task pick any folder; name the folders agents work in`);
    else workdirRoots.push(resolve(p));
  }

  const allowedSet = splitList(raw.OPS_ALLOWED_PROGRAMS);
  for (const item of allowedSet) {
    if (item.includes("/") && !isAbsolute(item)) problems.push(`OPS_ALLOWED_PROGRAMS: "${item}" must be a program name or an absolute path`);
  }
  const allowedPrograms = allowedSet.length > 0 ? allowedSet : [...new Set([...RUNTIME_PROGRAMS, ...allCommandPrograms])];

  const extra = splitList(raw.OPS_AGENT_ENV_ALLOW);
  for (const item of extra) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*\*?$/.test(item)) problems.push(`OPS_AGENT_ENV_ALLOW: "${item}" is not a variable name (NAME or PREFIX_*)`);
    else if (launcherOnlyVariable(item.replace(/\*$/, ""))) problems.push(`OPS_AGENT_ENV_ALLOW: ${item} is the launcher's own (credentials and configuration never go to agents)`);
  }
  if (problems.length > 0 || !credential) throw new ConfigError(problems);

  const agentBaseEnv = agentEnvironment(source, { slugs: raw.SUPPORTED_AGENT_SLUGS, rules: slugRules, extra, agentUser, agentHome });

  return {
    ...raw.OPS_API_BASE,
    credential,
    insecureApi,
    slugs: raw.SUPPORTED_AGENT_SLUGS,
    models: raw.SUPPORTED_MODELS,
    workerId: raw.OPS_WORKER_ID,
    heartbeatIntervalMs: raw.OPS_HEARTBEAT_INTERVAL_MS,
    maxConcurrent: raw.OPS_MAX_CONCURRENT,
    pollWaitMs: raw.OPS_POLL_WAIT_MS,
    earlyExitMs: raw.OPS_EARLY_EXIT_MS,
    stopGraceMs: raw.OPS_STOP_GRACE_MS,
    workerLog: path("OPS_LAUNCHER_LOG", raw.OPS_LAUNCHER_LOG),
    logDir: path("OPS_LAUNCHER_LOG_DIR", raw.OPS_LAUNCHER_LOG_DIR),
    logRetentionDays: raw.OPS_LAUNCHER_LOG_RETENTION_DAYS,
    stateDir: path("OPS_LAUNCHER_STATE_DIR", raw.OPS_LAUNCHER_STATE_DIR),
    workdirRoots,
    agentUser,
    agentHome,
    agentPromptDir: agentUser ? join(agentUser.home, ".ops-prompts") : undefined,
    allowedPrograms,
    allowedProgramsSource: allowedSet.length > 0 ? "OPS_ALLOWED_PROGRAMS" : "default",
    home,
    path: raw.PATH,
    commands: slugCommands,
    credentialRules: slugRules,
    agentBaseEnv,
  };
}

/** Where the launcher service's env file lives (deploy/systemd), so the doctor checks the same configuration. */
export const DEFAULT_ENV_FILE = "/etc/ops-dispatch/launcher.env";

/**
 * Reads a systemd-style env file (KEY=VALUE, optional quotes, # comments).
 * Values already in the environment win, as they do for an operator who
 * exports one variable to try something.
 */
export function parseEnvFile(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const rawLine of text.split(/\r?\n/)) {
    const line = rawLine.trim();
    if (!line || line.startsWith("#")) continue;
    const m = /^(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.*)$/.exec(line);
    if (!m) continue;
    let value = m[2]!;
    if ((value.startsWith('"') && value.endsWith('"')) || (value.startsWith("'") && value.endsWith("'"))) value = value.slice(1, -1);
    out[m[1]!] = value;
  }
  return out;
}

/** The env for the doctor: process env over the launcher env file (OPS_LAUNCHER_ENV_FILE; empty = none). */
export function envWithFile(source: NodeJS.ProcessEnv = process.env): { env: NodeJS.ProcessEnv; file?: string } {
  const explicit = source.OPS_LAUNCHER_ENV_FILE;
  const file = explicit === undefined ? DEFAULT_ENV_FILE : explicit;
  if (!file) return { env: source };
  if (!existsSync(file)) {
    if (explicit) throw new ConfigError([`OPS_LAUNCHER_ENV_FILE: ${file} does not exist`]);
    return { env: source };
  }
  const fromFile = parseEnvFile(readFileSync(file, "utf8"));
  const env: NodeJS.ProcessEnv = { ...fromFile, ...source };
  // A shell always has a PATH: put the service's PATH first so the doctor finds what the service finds.
  if (fromFile.PATH && source.PATH) env.PATH = `${fromFile.PATH}:${source.PATH}`;
  return { env, file };
}

/**
 * Why this launcher cannot run agents as OPS_AGENT_USER, or undefined when it
 * can (or none is set): switching user needs root.
 */
export function agentUserProblem(config: Pick<LauncherConfig, "agentUser">, uid = process.getuid?.()): string | undefined {
  if (!config.agentUser || uid === 0) return undefined;
  return `OPS_AGENT_USER: the launcher runs as uid ${uid ?? "unknown"}, not root, so it cannot start agents as "${config.agentUser.name}"; run the launcher as root (the shipped unit does) or unset OPS_AGENT_USER`;
}

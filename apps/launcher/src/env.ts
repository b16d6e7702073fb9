import { execFileSync } from "node:child_process";
import { existsSync, readFileSync, statSync } from "node:fs";
import { hostname, homedir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import {
  defaultIntSetting,
  programOf,
  SERVICE_TOKEN_HEADER,
  WORKER_ID_PATTERN,
  WORKER_TOKEN_HEADER,
  WORKER_TOKEN_PREFIX,
  ZModelName,
  ZSlug,
  ZWorkerId,
} from "@ops/contract";
import { z } from "zod";
import { parseTemplate, TemplateError, type Word } from "@ops/contract";
import { builtinCredentialRule, type CredentialRule, expandHome, parseCredentialRule, runtimeEnvNames } from "./credentials.ts";

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

/** The systemd credential name (LoadCredential=ops-worker-token:/etc/ops-dispatch/worker-token). */
export const WORKER_TOKEN_CREDENTIAL = "ops-worker-token";

/** Everything that names or carries the launcher's own credential: never for agents, dropped from process.env after start. */
export const CREDENTIAL_ENV_KEYS = ["OPS_WORKER_TOKEN", "OPS_WORKER_TOKEN_FILE", "OPS_SERVICE_TOKEN", "CREDENTIALS_DIRECTORY"] as const;

const NO_CREDENTIAL_ERROR =
  "no credential for the API: set OPS_WORKER_TOKEN_FILE to a file only the launcher's user can read (e.g. /etc/ops-dispatch/worker-token, mode 0600) holding this launcher's worker token; issue one with POST /api/workers/tokens or Ajustes → Workers. (systemd: LoadCredential=ops-worker-token:/etc/ops-dispatch/worker-token; OPS_SERVICE_TOKEN still works but is an instance admin credential)";

/** The one credential the launcher sends, and where it came from (never the token in words). */
export interface LauncherCredential {
  kind: "worker_token" | "service";
  header: string;
  token: string;
  /** Where it was read, for the log and the doctor: "systemd credential ops-worker-token", "OPS_WORKER_TOKEN_FILE /etc/…", "OPS_WORKER_TOKEN", "OPS_SERVICE_TOKEN". */
  source: string;
  /** The file it was read from, when it came from one (the doctor checks its mode and owner). */
  file?: string;
  /** Other credential variables that are set too and ignored. */
  ignored: string[];
}

/**
 * Picks the launcher's credential, in this order: the systemd credential
 * ($CREDENTIALS_DIRECTORY/ops-worker-token), OPS_WORKER_TOKEN_FILE,
 * OPS_WORKER_TOKEN, then OPS_SERVICE_TOKEN. Files first: a file only the
 * launcher's user reads stays out of /proc/<pid>/environ, which the process
 * keeps for its whole life even after the variable is unset. Exactly one is
 * used; the others are named as ignored. Problems are returned in words that
 * never quote the token.
 */
export function resolveCredential(source: NodeJS.ProcessEnv): { credential?: LauncherCredential; problems: string[] } {
  const problems: string[] = [];
  const candidates: { name: string; read: () => { token: string; source: string; file?: string } | undefined }[] = [
    {
      name: "CREDENTIALS_DIRECTORY",
      read: () => {
        if (!source.CREDENTIALS_DIRECTORY) return undefined;
        const file = `${source.CREDENTIALS_DIRECTORY.replace(/\/$/, "")}/${WORKER_TOKEN_CREDENTIAL}`;
        // A unit may load other credentials only: then this one is simply not offered.
        if (!existsSync(file)) return undefined;
        return { token: readTokenFile(file, `systemd credential ${WORKER_TOKEN_CREDENTIAL}`, problems), source: `systemd credential ${WORKER_TOKEN_CREDENTIAL}`, file };
      },
    },
    {
      name: "OPS_WORKER_TOKEN_FILE",
      read: () => {
        const file = source.OPS_WORKER_TOKEN_FILE;
        if (!file) return undefined;
        return { token: readTokenFile(file, "OPS_WORKER_TOKEN_FILE", problems), source: `OPS_WORKER_TOKEN_FILE ${file}`, file };
      },
    },
    { name: "OPS_WORKER_TOKEN", read: () => (source.OPS_WORKER_TOKEN ? { token: source.OPS_WORKER_TOKEN.trim(), source: "OPS_WORKER_TOKEN" } : undefined) },
    { name: "OPS_SERVICE_TOKEN", read: () => (source.OPS_SERVICE_TOKEN ? { token: source.OPS_SERVICE_TOKEN, source: "OPS_SERVICE_TOKEN" } : undefined) },
  ];
  let chosen: { name: string; token: string; source: string; file?: string } | undefined;
  const ignored: string[] = [];
  for (const candidate of candidates) {
    if (chosen) {
      if (candidate.name === "CREDENTIALS_DIRECTORY" || !source[candidate.name]) continue;
      // The env file may name the same file the unit loads as a credential: only a second secret is worth a word.
      if (candidate.name !== "OPS_WORKER_TOKEN_FILE") ignored.push(candidate.name);
      continue;
    }
    const found = candidate.read();
    if (found) chosen = { name: candidate.name, ...found };
  }
  if (problems.length > 0) return { problems };
  if (!chosen) return { problems: [NO_CREDENTIAL_ERROR] };
  const worker = chosen.name !== "OPS_SERVICE_TOKEN";
  if (worker && !chosen.token.startsWith(WORKER_TOKEN_PREFIX)) {
    return {
      problems: [
        `${chosen.name === "CREDENTIALS_DIRECTORY" ? `systemd credential ${WORKER_TOKEN_CREDENTIAL}` : chosen.name}: is not a worker token (those start with ${WORKER_TOKEN_PREFIX}; issue one with POST /api/workers/tokens or Ajustes → Workers); the service token goes in OPS_SERVICE_TOKEN`,
      ],
    };
  }
  return {
    credential: {
      kind: worker ? "worker_token" : "service",
      header: worker ? WORKER_TOKEN_HEADER : SERVICE_TOKEN_HEADER,
      token: chosen.token,
      source: chosen.source,
      ...(chosen.file ? { file: chosen.file } : {}),
      ignored,
    },
    problems: [],
  };
}

/** A token file's content, trimmed; an empty string with a problem when it cannot be used. */
function readTokenFile(file: string, name: string, problems: string[]): string {
  try {
    if (!statSync(file).isFile()) {
      problems.push(`${name}: ${file} is not a file`);
      return "";
    }
    const token = readFileSync(file, "utf8").trim();
    if (!token) problems.push(`${name}: ${file} is empty; write the worker token into it (POST /api/workers/tokens or Ajustes → Workers)`);
    else if (/\s/.test(token)) problems.push(`${name}: ${file} must hold the token alone, on one line`);
    return token;
  } catch (error) {
    problems.push(`${name}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? "error"}); it must be readable by the launcher's user only`);
    return "";
  }
}

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

/** A Unix account, as getent or /etc/passwd has it. */
export interface UnixUser {
  name: string;
  uid: number;
  gid: number;
  home: string;
  shell: string;
}

/** What loading the configuration asks of the host, injectable for tests. */
export interface ConfigHost {
  lookupUser(name: string): UnixUser | undefined;
}

const parsePasswdLine = (line: string): UnixUser | undefined => {
  const f = line.split(":");
  if (f.length < 7) return undefined;
  return { name: f[0]!, uid: Number(f[2]), gid: Number(f[3]), home: f[5]!, shell: f[6]!.trim() };
};

/** `getent passwd NAME` (so NSS users count), else /etc/passwd. */
export function lookupUnixUser(name: string): UnixUser | undefined {
  try {
    return parsePasswdLine(execFileSync("getent", ["passwd", name], { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).split("\n")[0]!);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") return undefined;
  }
  try {
    const line = readFileSync("/etc/passwd", "utf8").split("\n").find((l) => l.startsWith(`${name}:`));
    return line ? parsePasswdLine(line) : undefined;
  } catch {
    return undefined;
  }
}

const systemHost: ConfigHost = { lookupUser: lookupUnixUser };

/** Variables every agent may get when the launcher has them: where things are, locale, terminal, proxies, CA bundles. */
export const AGENT_BASE_VARIABLES = [
  "PATH",
  "HOME",
  "USER",
  "LOGNAME",
  "SHELL",
  "LANG",
  "LANGUAGE",
  "TZ",
  "TERM",
  "TMPDIR",
  "XDG_CONFIG_HOME",
  "XDG_DATA_HOME",
  "XDG_CACHE_HOME",
  "XDG_STATE_HOME",
  "HTTP_PROXY",
  "HTTPS_PROXY",
  "NO_PROXY",
  "ALL_PROXY",
  "http_proxy",
  "https_proxy",
  "no_proxy",
  "all_proxy",
  "NODE_EXTRA_CA_CERTS",
  "SSL_CERT_FILE",
  "SSL_CERT_DIR",
] as const;
const AGENT_BASE_PREFIXES = ["LC_"];

/**
 * The launcher's own variables: its credentials and configuration, never an
 * agent's, whatever an allowlist says (OPS_SERVICE_TOKEN, OPS_WORKER_TOKEN,
 * systemd's CREDENTIALS_DIRECTORY, a database URL or PostgreSQL password).
 */
export const launcherOnlyVariable = (name: string) =>
  /^(OPS_|AGENT_CMD_|AGENT_CREDENTIALS_|SUPPORTED_|PG)/.test(name) || name === "DATABASE_URL" || name === "CREDENTIALS_DIRECTORY";

/**
 * The environment an agent gets, from the launcher's: an allowlist (the base
 * variables, the supported runtimes' own variables and credential rules'
 * `env:` names, OPS_AGENT_ENV_ALLOW), never the launcher's own variables. An
 * agent user gets its own HOME, USER, LOGNAME and SHELL.
 */
export function agentEnvironment(
  source: NodeJS.ProcessEnv,
  opts: { slugs: string[]; rules: Record<string, CredentialRule>; extra: string[]; agentUser?: UnixUser | undefined; agentHome: string },
): Record<string, string> {
  const names = new Set<string>(AGENT_BASE_VARIABLES);
  const prefixes = [...AGENT_BASE_PREFIXES];
  for (const slug of opts.slugs) {
    const own = runtimeEnvNames(slug);
    for (const n of own.names) names.add(n);
    prefixes.push(...own.prefixes);
    for (const check of opts.rules[slug] ?? builtinCredentialRule(slug, opts.agentHome)) if (check.kind === "env") names.add(check.name);
  }
  for (const item of opts.extra) {
    if (item.endsWith("*")) prefixes.push(item.slice(0, -1));
    else names.add(item);
  }
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined || launcherOnlyVariable(k)) continue;
    if (names.has(k) || prefixes.some((p) => k.startsWith(p))) env[k] = v;
  }
  if (opts.agentUser) {
    const user = opts.agentUser;
    env.HOME = user.home;
    env.USER = user.name;
    env.LOGNAME = user.name;
    // A system account's login shell is often nologin: the CLIs run their tools through $SHELL.
    env.SHELL = /\/(nologin|false)$/.test(user.shell) || !user.shell ? "/bin/sh" : user.shell;
  } else if (!env.HOME) {
    env.HOME = opts.agentHome;
  }
  return env;
}

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

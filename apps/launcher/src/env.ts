import { existsSync, readFileSync, statSync } from "node:fs";
import { hostname, homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import {
  defaultIntSetting,
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
import { type CredentialRule, expandHome, parseCredentialRule } from "./credentials.ts";

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
  OPS_DEFAULT_WORKDIR: z.string().optional(),
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
  defaultWorkdir: string;
  home: string;
  path: string;
  /** AGENT_CMD_<SLUG>, parsed, by slug. */
  commands: Record<string, { source: string; template: string; words: Word[] }>;
  /** AGENT_CREDENTIALS_<SLUG> overrides, by slug. */
  credentialRules: Record<string, CredentialRule>;
  /** The environment agents inherit (the launcher's credential variables removed). */
  agentBaseEnv: Record<string, string>;
}

export class ConfigError extends Error {
  constructor(public readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  ${p}`).join("\n")}`);
  }
}

/** Reads and validates the launcher's environment: the only place that reads process.env. */
export function loadConfig(source: NodeJS.ProcessEnv = process.env): LauncherConfig {
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

  const commands: LauncherConfig["commands"] = {};
  const credentialRules: LauncherConfig["credentialRules"] = {};
  for (const [key, value] of Object.entries(source)) {
    const cmd = /^AGENT_CMD_([A-Z0-9_]+)$/.exec(key);
    if (cmd && value !== undefined && value.trim() !== "") {
      try {
        commands[cmd[1]!.toLowerCase().replace(/_/g, "-")] = { source: key, template: value, words: parseTemplate(value) };
      } catch (error) {
        if (error instanceof TemplateError) problems.push(`${key}: ${error.message}`);
        else throw error;
      }
    }
    const cred = /^AGENT_CREDENTIALS_([A-Z0-9_]+)$/.exec(key);
    if (cred && value !== undefined && value.trim() !== "") {
      try {
        credentialRules[cred[1]!.toLowerCase().replace(/_/g, "-")] = parseCredentialRule(value, home);
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
  if (problems.length > 0 || !credential) throw new ConfigError(problems);

  const agentBaseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    // The agent reports with its own task token; the launcher's credential (and where it lives) stays with the launcher.
    if (v !== undefined && !(CREDENTIAL_ENV_KEYS as readonly string[]).includes(k) && !k.startsWith("npm_") && k !== "INIT_CWD") agentBaseEnv[k] = v;
  }

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
    defaultWorkdir: path("OPS_DEFAULT_WORKDIR", raw.OPS_DEFAULT_WORKDIR || home),
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

import { existsSync, readFileSync } from "node:fs";
import { hostname, homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { defaultIntSetting, WORKER_ID_PATTERN, ZModelName, ZSlug, ZWorkerId } from "@ops/contract";
import { z } from "zod";
import { parseTemplate, TemplateError, type Word } from "./argv.ts";
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
  OPS_SERVICE_TOKEN: z
    .string({ error: "is required: the service token (X-OPS-Service-Token) the API accepts" })
    .min(1, { error: "is required: the service token (X-OPS-Service-Token) the API accepts" }),
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
  OPS_DEFAULT_WORKDIR: z.string().optional(),
  HOME: z.string().optional(),
  PATH: z.string().default("/usr/local/bin:/usr/bin:/bin"),
});

export interface LauncherConfig {
  apiBase: string;
  trpcUrl: string;
  serviceToken: string;
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
  stateDir: string;
  defaultWorkdir: string;
  home: string;
  path: string;
  /** AGENT_CMD_<SLUG>, parsed, by slug. */
  commands: Record<string, { source: string; template: string; words: Word[] }>;
  /** AGENT_CREDENTIALS_<SLUG> overrides, by slug. */
  credentialRules: Record<string, CredentialRule>;
  /** The environment agents inherit (the service token removed). */
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
  if (problems.length > 0) throw new ConfigError(problems);

  const agentBaseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    // The agent reports with its own task token; the service token stays with the launcher.
    if (v !== undefined && k !== "OPS_SERVICE_TOKEN" && !k.startsWith("npm_") && k !== "INIT_CWD") agentBaseEnv[k] = v;
  }

  return {
    ...raw.OPS_API_BASE,
    serviceToken: raw.OPS_SERVICE_TOKEN,
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

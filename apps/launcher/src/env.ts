import { existsSync, readFileSync } from "node:fs";
import { hostname, homedir } from "node:os";
import { isAbsolute, resolve } from "node:path";
import { z } from "zod";
import { parseTemplate, TemplateError, type Word } from "./argv.ts";
import { type CredentialRule, expandHome, parseCredentialRule } from "./credentials.ts";

/** The four runtimes the runbook names; any other slug works through AGENT_CMD_<SLUG>. */
export const DEFAULT_SLUGS = ["opencode", "claudecode", "codex", "hermes"] as const;

const SLUG_RE = /^[a-z0-9][a-z0-9_-]{0,39}$/;
const MODEL_RE = /^[A-Za-z0-9._:/@+*-]+$/;
const WORKER_ID_RE = /^[A-Za-z0-9._:@-]+$/;

const list = (v: string | undefined) =>
  (v ?? "")
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);


const int = (def: number, min: number, max: number) => z.coerce.number().int().min(min).max(max).default(def);

/** The env name that configures a slug: `my-agent` → `AGENT_CMD_MY_AGENT`. */
export const envKeyOf = (prefix: string, slug: string) => `${prefix}${slug.toUpperCase().replace(/-/g, "_")}`;

function defaultWorkerId(): string {
  const cleaned = hostname().replace(/[^A-Za-z0-9._:@-]/g, "-") || "worker";
  return `${cleaned}-launcher`;
}

const ZRawEnv = z.object({
  OPS_API_BASE: z
    .string()
    .default("http://127.0.0.1:3847/api")
    .refine((v) => /^https?:\/\/[^/]+(\/.*)?\/api\/?$/.test(v), {
      error: "must be the REST base URL ending in /api, e.g. http://127.0.0.1:3847/api",
    }),
  OPS_SERVICE_TOKEN: z
    .string({ error: "is required: the service token (X-OPS-Service-Token) the API accepts" })
    .min(1, { error: "is required: the service token (X-OPS-Service-Token) the API accepts" }),
  SUPPORTED_AGENT_SLUGS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const slugs = list(v);
      for (const s of slugs) {
        if (!SLUG_RE.test(s)) ctx.addIssue({ code: "custom", message: `"${s}" is not a valid slug (lowercase letters, digits, - and _)` });
      }
      return slugs.length > 0 ? [...new Set(slugs)] : [...DEFAULT_SLUGS];
    }),
  SUPPORTED_MODELS: z
    .string()
    .optional()
    .transform((v, ctx) => {
      const models = list(v);
      for (const m of models) {
        if (!MODEL_RE.test(m)) ctx.addIssue({ code: "custom", message: `"${m}" is not a valid model filter (e.g. qwen*,gpt-*)` });
      }
      return models;
    }),
  OPS_WORKER_ID: z
    .string()
    .optional()
    .transform((v) => v || defaultWorkerId())
    .refine((v) => WORKER_ID_RE.test(v) && v.length <= 200, { error: "may contain letters, digits and . _ : @ - only (max 200)" }),
  /** Well inside dispatch_worker_stale_seconds (default 90 s): a late heartbeat gets the worker's tasks reconciled. */
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

  if (raw.OPS_HEARTBEAT_INTERVAL_MS * 3 > 90_000) {
    problems.push("OPS_HEARTBEAT_INTERVAL_MS: must leave room for two missed beats inside the 90 s stale threshold (max 30000)");
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const agentBaseEnv: Record<string, string> = {};
  for (const [k, v] of Object.entries(source)) {
    // The agent reports with its own task token; the service token stays with the launcher.
    if (v !== undefined && k !== "OPS_SERVICE_TOKEN" && !k.startsWith("npm_") && k !== "INIT_CWD") agentBaseEnv[k] = v;
  }

  const apiBase = raw.OPS_API_BASE.replace(/\/$/, "");
  return {
    apiBase,
    trpcUrl: apiBase.replace(/\/api$/, "/trpc"),
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

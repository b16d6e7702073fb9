import { accessSync, constants, statSync } from "node:fs";
import { dirname, resolve } from "node:path";

/**
 * Whether a runtime has credentials on this host. A rule is a list of
 * alternatives, any one of which is enough: an env variable that is set and
 * non-empty, or a readable non-empty file (a CLI's login). `none` means the
 * runtime needs no credentials (a local model, or a custom agent).
 *
 * Written as AGENT_CREDENTIALS_<SLUG>=env:NAME,file:~/path,none to override.
 */
export type CredentialCheck = { kind: "env"; name: string } | { kind: "file"; path: string } | { kind: "none" };
export type CredentialRule = CredentialCheck[];

export const expandHome = (p: string, home: string) => (p === "~" ? home : p.startsWith("~/") ? `${home}/${p.slice(2)}` : p);

export function parseCredentialRule(text: string, home: string): CredentialRule {
  const rule: CredentialRule = [];
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    if (item === "none") rule.push({ kind: "none" });
    else if (item.startsWith("env:") && /^[A-Za-z_][A-Za-z0-9_]*$/.test(item.slice(4))) rule.push({ kind: "env", name: item.slice(4) });
    else if (item.startsWith("file:") && item.length > 5) rule.push({ kind: "file", path: expandHome(item.slice(5), home) });
    else throw new Error(`"${item}" is not a credential check; use env:NAME, file:PATH or none, comma-separated`);
  }
  if (rule.length === 0) throw new Error("is empty; use env:NAME, file:PATH or none, comma-separated");
  return rule;
}

/**
 * Built-in rules for the four runtimes, from where each CLI reads its
 * credentials. The runbook's claudecode case: installed, but neither
 * ANTHROPIC_API_KEY nor a `claude` login → not usable.
 */
export function builtinCredentialRule(slug: string, home: string): CredentialRule {
  const env = (...names: string[]) => names.map((name) => ({ kind: "env", name }) as const);
  const file = (...paths: string[]) => paths.map((p) => ({ kind: "file", path: expandHome(p, home) }) as const);
  switch (slug) {
    case "claudecode":
      return [...env("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN"), ...file("~/.claude/.credentials.json")];
    case "codex":
      return [...env("OPENAI_API_KEY", "CODEX_API_KEY"), ...file("~/.codex/auth.json")];
    case "opencode":
      // opencode talks to many providers; its own login store or a provider key will do.
      return [
        ...env("OPENCODE_API_KEY", "ANTHROPIC_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "GEMINI_API_KEY", "GROQ_API_KEY"),
        ...file("~/.local/share/opencode/auth.json"),
      ];
    case "hermes":
      return [...env("OPENROUTER_API_KEY", "NOUS_API_KEY", "OPENAI_API_KEY", "ANTHROPIC_API_KEY"), ...file("~/.hermes/.env", "~/.hermes/auth.json")];
    default:
      // A custom agent brings its own setup; it declares credentials through AGENT_CREDENTIALS_<SLUG>.
      return [{ kind: "none" }];
  }
}

export interface CredentialResult {
  ok: boolean;
  /** What satisfied the rule, or what was looked for. */
  detail: string;
}

/** A Unix user as the kernel checks it for an agent: its uid and primary group (Node drops supplementary groups when switching). */
export interface FileUser {
  uid: number;
  gid: number;
}

/**
 * Whether a user may access a path in a mode (4 read, 2 write, 1
 * search/execute), every folder on the way searchable; undefined when the
 * path does not exist. Mode bits only (no ACLs).
 */
export function accessibleBy(path: string, user: FileUser, mode: number): boolean | undefined {
  const bits = (p: string) => {
    const st = statSync(p);
    const shift = st.uid === user.uid ? 6 : st.gid === user.gid ? 3 : 0;
    return (st.mode >> shift) & 7;
  };
  try {
    const full = resolve(path);
    for (let dir = dirname(full); ; dir = dirname(dir)) {
      if ((bits(dir) & 1) === 0) return false;
      if (dir === "/") break;
    }
    return (bits(full) & mode) === mode;
  } catch {
    return undefined;
  }
}

/** A non-empty file the reader (the agent user; else this process) can read. */
function fileUsable(path: string, reader?: FileUser): boolean {
  try {
    if (reader) {
      if (accessibleBy(path, reader, 4) !== true) return false;
    } else accessSync(path, constants.R_OK);
    return statSync(path).size > 0;
  } catch {
    return false;
  }
}

/** Whether the rule is met; `reader` is the agent user, when agents run as one: its login files must be readable by it. */
export function checkCredentials(rule: CredentialRule, env: Record<string, string | undefined>, reader?: FileUser): CredentialResult {
  for (const check of rule) {
    if (check.kind === "none") return { ok: true, detail: "no credentials required" };
    if (check.kind === "env" && env[check.name]) return { ok: true, detail: `env ${check.name}` };
    if (check.kind === "file" && fileUsable(check.path, reader)) return { ok: true, detail: `login file ${check.path}` };
  }
  const wanted = rule.map((c) => (c.kind === "env" ? c.name : c.kind === "file" ? c.path : "none")).join(", ");
  return { ok: false, detail: `none of: ${wanted}` };
}

/**
 * The environment variables a runtime reads for its credentials and its own
 * configuration (endpoints, config folders, update and telemetry switches):
 * exact names and name prefixes. An agent's environment is an allowlist; these
 * pass for the runtimes this host supports, beside the `env:` names of their
 * credential rules. Anything else an operator wants an agent to see goes in
 * OPS_AGENT_ENV_ALLOW.
 */
export function runtimeEnvNames(slug: string): { names: string[]; prefixes: string[] } {
  switch (slug) {
    case "claudecode":
      return {
        prefixes: ["ANTHROPIC_", "CLAUDE_"],
        names: [
          "DISABLE_AUTOUPDATER",
          "DISABLE_TELEMETRY",
          "DISABLE_ERROR_REPORTING",
          "DISABLE_NON_ESSENTIAL_MODEL_CALLS",
          "DISABLE_COST_WARNINGS",
          "DISABLE_BUG_COMMAND",
          "MAX_THINKING_TOKENS",
          "BASH_DEFAULT_TIMEOUT_MS",
          "BASH_MAX_TIMEOUT_MS",
          "MCP_TIMEOUT",
        ],
      };
    case "codex":
      return { prefixes: ["OPENAI_", "CODEX_"], names: [] };
    case "opencode":
      return { prefixes: ["OPENCODE_", "ANTHROPIC_", "OPENAI_", "OPENROUTER_", "GEMINI_", "GROQ_"], names: [] };
    case "hermes":
      return { prefixes: ["HERMES_", "OPENROUTER_", "NOUS_", "OPENAI_", "ANTHROPIC_"], names: [] };
    default:
      return { prefixes: [], names: [] };
  }
}

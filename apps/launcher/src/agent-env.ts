import { builtinCredentialRule, type CredentialRule, runtimeEnvNames } from "./credentials.ts";
import type { UnixUser } from "./unix-user.ts";

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


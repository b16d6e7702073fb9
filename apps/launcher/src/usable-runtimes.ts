import { statSync } from "node:fs";
import { type ApiClient, describeError } from "./api.ts";
import type { LauncherConfig } from "./env.ts";
import { assessRuntime, BUILTIN_COMMANDS, probeVersion } from "./runtimes.ts";
import type { Logger } from "./worker-log.ts";

export interface UsableRuntimesDeps {
  config: LauncherConfig;
  api: ApiClient;
  log: Logger;
}

/**
 * Which supported slugs this host can run now (command on PATH, credentials
 * present) and their CLI versions: what every heartbeat announces and every
 * claim asks for. Re-assessed before each heartbeat, so installing a CLI or
 * logging one in takes effect without a restart; changes are logged.
 */
export class UsableRuntimes {
  usable: string[] = [];
  versions: Record<string, string> = {};
  private readonly versionCache = new Map<string, string | undefined>();
  private opsLaunchCommands: Record<string, string> = {};
  private lastLogged = "";

  constructor(private readonly deps: UsableRuntimesDeps) {}

  async refresh(): Promise<void> {
    const { config, log } = this.deps;
    const hostCommandOf = (slug: string) => config.commands[slug] || BUILTIN_COMMANDS[slug];
    if (config.slugs.some((slug) => !hostCommandOf(slug))) await this.readOpsLaunchCommands();
    const usable: string[] = [];
    const versions: Record<string, string> = {};
    const problems: Record<string, string> = {};
    for (const slug of config.slugs) {
      const assessment = assessRuntime(slug, config, hostCommandOf(slug) ? undefined : this.opsLaunchCommands[slug]);
      if (assessment.executable) {
        const version = await this.versionOf(assessment.executable);
        if (version) versions[slug] = version;
      }
      if (assessment.usable) usable.push(slug);
      else problems[slug] = assessment.problem ?? "not usable";
    }
    this.usable = usable;
    this.versions = versions;
    const key = JSON.stringify([usable, problems]);
    if (key !== this.lastLogged) {
      this.lastLogged = key;
      log.info({ usable, not_usable: problems, versions }, "usable runtimes");
    }
  }

  /** A slug with no command on this host can still run through its launch_command in OPS (runbook 1). */
  private async readOpsLaunchCommands(): Promise<void> {
    try {
      // The active agents of this worker's pool, whatever their workspace (a worker procedure).
      const agents = await this.deps.api.dispatch.agents.query({}, { signal: AbortSignal.timeout(10_000) });
      this.opsLaunchCommands = Object.fromEntries(agents.filter((a) => a.launch_command).map((a) => [a.slug, a.launch_command!]));
    } catch (error) {
      this.deps.log.warn({ error: describeError(error) }, "could not read agents' launch commands");
    }
  }

  /** `--version` once per installed binary (a reinstall changes its mtime). */
  private async versionOf(executable: string): Promise<string | undefined> {
    let mtime = "";
    try {
      mtime = String(statSync(executable).mtimeMs);
    } catch {}
    const key = `${executable}@${mtime}`;
    if (!this.versionCache.has(key)) this.versionCache.set(key, await probeVersion(executable, this.deps.config.agentBaseEnv));
    return this.versionCache.get(key);
  }
}

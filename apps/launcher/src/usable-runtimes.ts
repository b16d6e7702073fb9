import { statSync } from "node:fs";
import type { TRuntimeState } from "@ops/contract";
import { type ApiClient, describeError } from "./api.ts";
import type { LauncherConfig } from "./env.ts";
import { probeVersion, slugsWithoutHostCommand, surveyRuntimes } from "./runtimes.ts";
import type { Logger } from "./worker-log.ts";

export interface UsableRuntimesDeps {
  config: LauncherConfig;
  api: ApiClient;
  log: Logger;
}

/**
 * The active agents' launch_command in OPS, by slug: how a slug this host has
 * no command for runs (runbook 1). Read through the worker procedure: the
 * active agents of this worker's pool, whatever their workspace.
 */
export async function readOpsLaunchCommands(api: ApiClient): Promise<Record<string, string>> {
  const agents = await api.dispatch.agents.query({}, { signal: AbortSignal.timeout(10_000) });
  return Object.fromEntries(agents.filter((a) => a.launch_command).map((a) => [a.slug, a.launch_command!]));
}

/**
 * Which supported slugs this host can run now (command on PATH, credentials
 * present), the state of every one (usable, or why not) and their CLI
 * versions: what every heartbeat announces and every claim asks for.
 * Re-assessed before each heartbeat, so installing a CLI or logging one in
 * takes effect without a restart; changes are logged.
 */
export class UsableRuntimes {
  usable: string[] = [];
  versions: Record<string, string> = {};
  states: TRuntimeState[] = [];
  private readonly versionCache = new Map<string, string | undefined>();
  private opsLaunchCommands: Record<string, string> = {};
  private lastLogged = "";

  constructor(private readonly deps: UsableRuntimesDeps) {}

  async refresh(): Promise<void> {
    const { config, log } = this.deps;
    if (slugsWithoutHostCommand(config).length > 0) {
      try {
        this.opsLaunchCommands = await readOpsLaunchCommands(this.deps.api);
      } catch (error) {
        log.warn({ error: describeError(error) }, "could not read agents' launch commands");
      }
    }
    const usable: string[] = [];
    const versions: Record<string, string> = {};
    const states: TRuntimeState[] = [];
    const problems: Record<string, string> = {};
    for (const assessment of surveyRuntimes(config, this.opsLaunchCommands)) {
      const version = assessment.executable ? await this.versionOf(assessment.executable) : undefined;
      if (version) versions[assessment.slug] = version;
      states.push({ slug: assessment.slug, state: assessment.state, reason: assessment.problem?.slice(0, 1000) ?? null, version: version ?? null });
      if (assessment.usable) usable.push(assessment.slug);
      else problems[assessment.slug] = assessment.problem ?? "not usable";
    }
    this.usable = usable;
    this.versions = versions;
    this.states = states;
    const key = JSON.stringify([usable, problems]);
    if (key !== this.lastLogged) {
      this.lastLogged = key;
      log.info({ usable, not_usable: problems, versions }, "usable runtimes");
    }
  }

  /** `--version` once per installed binary (a reinstall changes its mtime). */
  private async versionOf(executable: string): Promise<string | undefined> {
    let mtime = "";
    try {
      mtime = String(statSync(executable).mtimeMs);
    } catch {}
    const key = `${executable}@${mtime}`;
    if (!this.versionCache.has(key)) this.versionCache.set(key, await probeVersion(executable, this.deps.config.agentBaseEnv, undefined, this.deps.config.agentUser));
    return this.versionCache.get(key);
  }
}

import { createApiClient } from "./api.ts";
import { Launcher } from "./daemon.ts";
import { agentUserProblem, ConfigError, type LauncherConfig, loadConfig } from "./env.ts";
import { securePrivatePaths } from "./launch.ts";
import { LaunchState } from "./state.ts";
import { openWorkerLog, type WorkerLog } from "./worker-log.ts";

let config: LauncherConfig;
let workerLog: WorkerLog;
try {
  config = loadConfig();
  const cannotSwitch = agentUserProblem(config);
  if (cannotSwitch) throw new ConfigError([cannotSwitch]);
  securePrivatePaths(config);
  workerLog = openWorkerLog(config.workerLog, { secrets: [config.serviceToken] });
} catch (error) {
  process.stderr.write(`[launcher] ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(2);
}
const log = workerLog.logger;
const launcher = new Launcher({
  config,
  api: createApiClient(config.trpcUrl, config.serviceToken),
  log: workerLog,
  state: new LaunchState(config.stateDir, config.workerId),
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "signal received: stopping claims, agents keep running");
  await launcher.stop();
  workerLog.close();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGHUP", () => workerLog.reopen());

try {
  await launcher.start();
} catch (error) {
  // An unreadable state file or log folder: say so in the worker log and stop, as bad config does.
  log.error({ error: error instanceof Error ? error.message : String(error) }, "launcher could not start");
  workerLog.close();
  process.exit(2);
}

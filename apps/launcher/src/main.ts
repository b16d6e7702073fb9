import { createApiClient } from "./api.ts";
import { Launcher } from "./daemon.ts";
import { ConfigError, type LauncherConfig, loadConfig } from "./env.ts";
import { LaunchState } from "./state.ts";
import { openWorkerLog, type WorkerLog } from "./worker-log.ts";

let config: LauncherConfig;
let log: WorkerLog;
try {
  config = loadConfig();
  log = openWorkerLog(config.workerLog);
} catch (error) {
  process.stderr.write(`[launcher] ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(2);
}
const launcher = new Launcher({
  config,
  api: createApiClient(config.trpcUrl, config.serviceToken),
  log,
  state: new LaunchState(config.stateDir, config.workerId),
});

let stopping = false;
const shutdown = async (signal: string) => {
  if (stopping) return;
  stopping = true;
  log.info("signal received: stopping claims, agents keep running", { signal });
  await launcher.stop();
  log.close();
  process.exit(0);
};
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));
process.on("SIGHUP", () => log.reopen());

try {
  await launcher.start();
} catch (error) {
  // An unreadable state file or log folder: say so in the worker log and stop, as bad config does.
  log.error("launcher could not start", { error: error instanceof Error ? error.message : String(error) });
  log.close();
  process.exit(2);
}

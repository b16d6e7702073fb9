import { type ApiClient, createApiClient, opsCodeOf } from "./api.ts";
import { Launcher } from "./daemon.ts";
import { checkTokenFile } from "./doctor-checks.ts";
import { agentUserProblem, ConfigError, dropCredentialEnv, type LauncherConfig, loadConfig } from "./env.ts";
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
  // Read once: from here on no child process can inherit the launcher's credential variables.
  dropCredentialEnv();
  workerLog = openWorkerLog(config.workerLog, { secrets: [config.credential.token] });
} catch (error) {
  process.stderr.write(`[launcher] ${error instanceof ConfigError ? error.message : (error as Error).message}\n`);
  process.exit(2);
}
const log = workerLog.logger;
if (config.credential.kind === "service") {
  log.warn(
    { credential: config.credential.source },
    "this launcher authenticates with the service token, an instance admin credential; issue it a worker token (POST /api/workers/tokens or Ajustes → Workers) and set OPS_WORKER_TOKEN_FILE",
  );
} else {
  log.info({ credential: config.credential.source }, "authenticating with a worker token");
}
if (config.credential.ignored.length > 0) {
  log.warn({ ignored: config.credential.ignored, credential: config.credential.source }, "more than one credential is set; using the first in order and ignoring the rest: remove them");
}
if (config.credential.source === "OPS_WORKER_TOKEN") {
  log.warn({}, "the worker token is in the environment (OPS_WORKER_TOKEN), which /proc/<pid>/environ keeps for the launcher's life; prefer OPS_WORKER_TOKEN_FILE or systemd LoadCredential=");
}
// A token file others can read is readable by agents running as another user: said at every start, as the doctor says it.
if (config.credential.file && config.credential.source.startsWith("OPS_WORKER_TOKEN_FILE")) {
  const file = checkTokenFile(config.credential.file, process.getuid?.());
  if (file.status !== "OK") log.warn({ file: config.credential.file }, file.detail);
}
if (config.insecureApi) log.warn({ api: config.apiBase }, "OPS_ALLOW_INSECURE_API=1: the token goes over plain http to a host that is not this machine");
const api = createApiClient(config.trpcUrl, config.credential);
await checkWorkerBinding(api);
const launcher = new Launcher({
  config,
  api,
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

/**
 * A worker token acts only as the worker id it was issued for: a launcher
 * whose OPS_WORKER_ID differs would have every heartbeat refused, so it stops
 * at start and says which id to set. An unreachable API is not a reason to
 * stop (the daemon retries); a rejected token is logged in words.
 */
async function checkWorkerBinding(client: ApiClient): Promise<void> {
  if (config.credential.kind !== "worker_token") return;
  try {
    const who = await client.dispatch.credential.query({}, { signal: AbortSignal.timeout(10_000) });
    if (who.worker_id !== null && who.worker_id !== config.workerId) {
      log.error(
        { credential: config.credential.source, token_worker_id: who.worker_id, worker_id: config.workerId },
        `launcher could not start: the worker token is bound to worker ${who.worker_id}, but OPS_WORKER_ID is ${config.workerId}; set OPS_WORKER_ID=${who.worker_id} or issue a token for ${config.workerId}`,
      );
      workerLog.close();
      process.exit(2);
    }
  } catch (error) {
    const code = opsCodeOf(error);
    if (code === "UNAUTHORIZED" || code === "FORBIDDEN") {
      log.error({ credential: config.credential.source, code }, "the API rejected the worker token (revoked or unknown); issue a new one (POST /api/workers/tokens or Ajustes → Workers)");
    } else {
      log.warn({ error: (error as Error).message }, "could not check the worker token with the API; retrying with the heartbeats");
    }
  }
}

import type { OpsDatabase } from "@ops/db";
import type { Logger } from "pino";
import type { ServiceTokenVerifier } from "./auth/authenticate.ts";
import { Dispatcher } from "./dispatch/dispatcher.ts";
import { HeartbeatBuffer } from "./dispatch/heartbeat.ts";
import { StopWakeup } from "./dispatch/stops.ts";
import { SettingsCache } from "./domain/settings-cache.ts";
import { WorkerTokenCache } from "./auth/worker-token.ts";
import type { Env } from "./env.ts";

/** Long-lived things the procedures share, built once per API process (server.ts). */
export interface AppDeps {
  env: Env;
  database: OpsDatabase;
  log: Logger;
  serviceTokens: ServiceTokenVerifier;
  /** Claims for the dispatch/next requests parked on this instance. */
  dispatcher: Dispatcher;
  /** Heartbeats that only say "still here", written together once per interval. */
  heartbeats: HeartbeatBuffer;
  /** The dispatch settings, cached and invalidated by NOTIFY from any instance. */
  settings: SettingsCache;
  /** Parked dispatch/stops long-polls, woken by a cancel's NOTIFY. */
  stopWakeup: StopWakeup;
  /** Worker tokens: positive lookups cached while LISTEN is up, dropped by a revoke's NOTIFY; last use written in batches. */
  workerTokens: WorkerTokenCache;
}

/**
 * The instance's shared dispatch machinery, started (LISTENs, timers) in
 * the order its users need; stopDispatchDeps ends it, writing pending heartbeats.
 */
export async function startDispatchDeps(env: Env, database: OpsDatabase, log: Logger): Promise<Pick<AppDeps, "dispatcher" | "heartbeats" | "settings" | "stopWakeup" | "workerTokens">> {
  const settings = new SettingsCache(database.db, database, log);
  await settings.start();
  const dispatcher = new Dispatcher(database.db, database, settings, log, env.OPS_DISPATCH_REPOLL_MS);
  await dispatcher.start();
  const heartbeats = new HeartbeatBuffer(database.db, log, env.OPS_HEARTBEAT_FLUSH_MS);
  heartbeats.start();
  const stopWakeup = new StopWakeup(database, log);
  await stopWakeup.start();
  const workerTokens = new WorkerTokenCache(database.db, database, log, env.OPS_HEARTBEAT_FLUSH_MS);
  await workerTokens.start();
  return { settings, dispatcher, heartbeats, stopWakeup, workerTokens };
}

export async function stopDispatchDeps(deps: Pick<AppDeps, "dispatcher" | "heartbeats" | "settings" | "stopWakeup" | "workerTokens" | "log">): Promise<void> {
  await deps.dispatcher.stop();
  await deps.stopWakeup.stop();
  await deps.heartbeats.stop().catch((err: unknown) => deps.log.warn({ err }, "pending heartbeats not written at shutdown"));
  await deps.settings.stop();
  await deps.workerTokens.stop().catch((err: unknown) => deps.log.warn({ err }, "pending last_used_at not written at shutdown"));
}

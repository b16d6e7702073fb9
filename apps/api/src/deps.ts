import type { OpsDatabase } from "@ops/db";
import type { Logger } from "pino";
import type { ServiceTokenVerifier } from "./auth/authenticate.ts";
import type { DispatchWakeup } from "./dispatch/wakeup.ts";
import type { Env } from "./env.ts";

/** Long-lived things the procedures share, built once per API process (server.ts). */
export interface AppDeps {
  env: Env;
  database: OpsDatabase;
  log: Logger;
  serviceTokens: ServiceTokenVerifier;
  wakeup: DispatchWakeup;
}

import type { OpsDatabase } from "@ops/db";
import type { Logger } from "pino";
import type { ServiceTokenVerifier } from "../auth/authenticate.ts";
import type { Principal } from "../auth/principal.ts";
import type { DispatchWakeup } from "../dispatch/wakeup.ts";
import type { Env } from "../env.ts";

/** Long-lived things the procedures share, built once per API process. */
export interface AppDeps {
  env: Env;
  database: OpsDatabase;
  log: Logger;
  serviceTokens: ServiceTokenVerifier;
  wakeup: DispatchWakeup;
}

export interface SessionCookieControl {
  set(value: string, expiresAt: Date): void;
  clear(): void;
}

export interface Ctx {
  deps: AppDeps;
  db: OpsDatabase["db"];
  /** Resolved lazily by the access middleware, so bad credentials become tRPC errors. */
  resolvePrincipal: () => Promise<Principal>;
  principal: Principal;
  ip: string | null;
  cookies: SessionCookieControl;
  /** Aborted when the client goes away (ends long-polls early). */
  signal: AbortSignal;
}

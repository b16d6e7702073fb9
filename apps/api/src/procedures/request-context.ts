import type { Principal } from "../auth/principal.ts";
import type { AppDeps } from "../deps.ts";

export interface SessionCookieControl {
  set(value: string, expiresAt: Date): void;
  clear(): void;
}

/**
 * What a procedure gets for one call. The transport builds it (trpc/create-context.ts,
 * for tRPC and REST alike); tests build it to call procedures in-process.
 */
export interface Ctx {
  deps: AppDeps;
  db: AppDeps["database"]["db"];
  /** Resolved lazily by the access middleware, so bad credentials become tRPC errors. */
  resolvePrincipal: () => Promise<Principal>;
  principal: Principal;
  ip: string | null;
  cookies: SessionCookieControl;
  /** Aborted when the client goes away (ends long-polls early). */
  signal: AbortSignal;
  /** Procedure calls the request carries (a tRPC batch: more than one); REST: 1. */
  callsInRequest?: number;
}

import type { AppRouter } from "@ops/contract";
import { createDb, type Db, type OpsDatabase, seedDefaults } from "@ops/db";
import pino from "pino";
import { afterAll, beforeAll } from "vitest";
import { testLogFile } from "../../../tests/support/log-dir.ts";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { ServiceTokenVerifier } from "../src/auth/authenticate.ts";
import type { Principal } from "../src/auth/principal.ts";
import { type AppDeps, startDispatchDeps, stopDispatchDeps } from "../src/deps.ts";
import { loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { implementation } from "../src/procedures/index.ts";
import type { Ctx } from "../src/procedures/request-context.ts";
import { buildAppRouter } from "../src/trpc/router.ts";

export type Caller = ReturnType<AppRouter["createCaller"]>;

/** Callers as the principals the policy knows, workspace 1. */
export const AS = {
  service: { kind: "service" } as Principal,
  admin: { kind: "user", userId: 1, username: "admin", isInstanceAdmin: true, roles: new Map([[1, "admin"]]), sessionIdHash: "" } as Principal,
  member: { kind: "user", userId: 2, username: "member", isInstanceAdmin: false, roles: new Map([[1, "member"]]), sessionIdHash: "" } as Principal,
  agent: (taskId: number, attempt: number): Principal => ({ kind: "agent", taskId, attempt }),
};

export interface InProcessApi {
  database: OpsDatabase;
  db: Db;
  /** The typed tRPC caller, as `principal`: every procedure, its validation and access checks, no HTTP. */
  as(principal: Principal): Caller;
  close(): Promise<void>;
}

/**
 * The API's router called in-process (tRPC's createCaller) over a fresh
 * PostgreSQL database: one per test file, for the domain rules' own tests
 * beside the code. The REST suites in test/ keep covering the transport.
 */
export async function startInProcessApi(): Promise<InProcessApi> {
  const fresh: FreshDatabase = await createFreshDatabase("ops_caller");
  const env = loadEnv({ DATABASE_URL: fresh.url, LOG_LEVEL: "debug", OPS_DATA_DIR: "memory://" });
  const database = await createDb({ databaseUrl: fresh.url, maxConnections: 8 });
  await database.migrate();
  await seedDefaults(database.db);
  const log = createLogger("debug", pino.destination({ dest: testLogFile("api-caller"), sync: true }));
  const deps: AppDeps = { env, database, log, serviceTokens: new ServiceTokenVerifier(database.db), ...(await startDispatchDeps(env, database, log)) };
  const appRouter = buildAppRouter(implementation);
  return {
    database,
    db: database.db,
    as(principal) {
      const ctx: Ctx = {
        deps,
        db: database.db,
        principal,
        resolvePrincipal: async () => principal,
        ip: "127.0.0.1",
        cookies: { set() {}, clear() {} },
        signal: new AbortController().signal,
      };
      return appRouter.createCaller(ctx);
    },
    async close() {
      await stopDispatchDeps(deps);
      await database.close();
      await fresh.drop();
    },
  };
}

/**
 * The in-process API for this test file: started before its tests, closed
 * after them. `service` is the caller as the service token.
 */
export function useInProcessApi(setup?: (service: Caller) => Promise<void>) {
  let api: InProcessApi | undefined;
  const started = () => {
    if (!api) throw new Error("the in-process API starts in beforeAll");
    return api;
  };
  beforeAll(async () => {
    api = await startInProcessApi();
    await setup?.(api.as(AS.service));
  });
  afterAll(async () => api?.close());
  return {
    get db() {
      return started().db;
    },
    get service() {
      return started().as(AS.service);
    },
    as: (principal: Principal) => started().as(principal),
  };
}

/** The ops code a refused call carries (HUMAN_GATE, DONE_GUARD, STALE_CLAIM, …). */
export async function opsCodeOf(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (error) {
    return (error as { cause?: { code?: string } }).cause?.code ?? `not an ops error: ${String(error)}`;
  }
  throw new Error("expected the call to be refused");
}

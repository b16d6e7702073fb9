import { type AppRouter, SERVICE_TOKEN_HEADER } from "@ops/contract";
import { createDb, type OpsDatabase, seedDefaults } from "@ops/db";
import { createTRPCClient, httpLink } from "@trpc/client";
import pino from "pino";
import { testLogFile } from "../../../tests/support/log-dir.ts";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { restClient } from "../../../tests/support/spawn-api.ts";
import { bootstrapCredentials } from "../src/auth/bootstrap.ts";
import { loadEnv } from "../src/env.ts";
import { createLogger } from "../src/logger.ts";
import { buildServer } from "../src/server.ts";
import { type AppDeps, stopDispatchDeps } from "../src/deps.ts";

export type DbKind = "pglite" | "postgres";
export const DB_KINDS: DbKind[] = ["pglite", "postgres"];

export const SERVICE_TOKEN = "suite-service-token-0123456789abcdef";
export const ADMIN = { username: "admin", password: "admin-password-for-tests" };

export interface TestApi {
  kind: DbKind;
  baseUrl: string;
  apiBase: string;
  database: OpsDatabase;
  /** The PostgreSQL URL (postgres only): a second instance on the same database is started with it. */
  databaseUrl: string | undefined;
  /** The instance's shared machinery (dispatcher, heartbeat buffer, settings cache). */
  deps: AppDeps;
  /** REST as the service token. */
  rest: ReturnType<typeof restClient>;
  /** REST with any headers (none: anonymous). */
  restAs(headers: Record<string, string>): ReturnType<typeof restClient>;
  /** The typed tRPC client built from the contract alone, as the launcher builds it. */
  trpc: ReturnType<typeof createTRPCClient<AppRouter>>;
  trpcAs(headers: Record<string, string>): ReturnType<typeof createTRPCClient<AppRouter>>;
  /** Credentials the first start generated (none when the env set them). */
  generated: Awaited<ReturnType<typeof bootstrapCredentials>>["generated"];
  /** Signs in and returns the session cookie header. */
  login(username?: string, password?: string): Promise<Record<string, string>>;
  close(): Promise<void>;
}

/**
 * The real API in this process on a real port, over PGlite (in memory) or a
 * fresh PostgreSQL database. One per test file.
 */
export async function startTestApi(
  kind: DbKind,
  envOverrides: Record<string, string> = {},
  options: { sameDatabaseAs?: TestApi } = {},
): Promise<TestApi> {
  let fresh: FreshDatabase | undefined;
  const shared = options.sameDatabaseAs?.databaseUrl;
  if (kind === "postgres" && !shared) fresh = await createFreshDatabase();
  const databaseUrl = shared ?? fresh?.url;
  const env = loadEnv({
    HOST: "127.0.0.1",
    PORT: "0",
    OPS_SERVICE_TOKEN: SERVICE_TOKEN,
    OPS_ADMIN_USER: ADMIN.username,
    OPS_ADMIN_PASSWORD: ADMIN.password,
    LOG_LEVEL: "debug",
    OPS_DATA_DIR: "memory://",
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
    ...envOverrides,
  });
  const database = await createDb({ databaseUrl: env.DATABASE_URL, dataDir: env.OPS_DATA_DIR, maxConnections: 30 });
  await database.migrate();
  await seedDefaults(database.db);
  const { generated } = await bootstrapCredentials(database.db, env);
  // Logged at debug (request lines included) into the run's log folder for the secrets scan.
  const logFile = pino.destination({ dest: testLogFile(`api-inprocess-${kind}`), sync: true });
  const { app, deps } = await buildServer(env, database, createLogger("debug", logFile));
  await app.listen({ host: "127.0.0.1", port: 0 });
  const address = app.server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  const baseUrl = `http://127.0.0.1:${port}`;
  const apiBase = `${baseUrl}/api`;
  const trpcAs = (headers: Record<string, string>) =>
    createTRPCClient<AppRouter>({ links: [httpLink({ url: `${baseUrl}/trpc`, headers })] });
  return {
    kind,
    baseUrl,
    apiBase,
    database,
    databaseUrl,
    deps,
    rest: restClient(apiBase, { [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN }),
    restAs: (headers) => restClient(apiBase, headers),
    trpc: trpcAs({ [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN }),
    trpcAs,
    generated,
    async login(username = ADMIN.username, password = ADMIN.password) {
      const res = await fetch(`${apiBase}/auth/login`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ username, password }),
      });
      if (res.status !== 200) throw new Error(`login failed: ${res.status} ${await res.text()}`);
      const cookie = res.headers.get("set-cookie")!.split(";")[0]!;
      return { cookie };
    },
    async close() {
      await stopDispatchDeps(deps);
      await app.close();
      await database.close();
      await fresh?.drop();
    },
  };
}

/** Adds a user with a role in a workspace (workspace 2 is created on demand). */
export async function createUser(
  api: TestApi,
  username: string,
  role: "admin" | "member",
  workspaceId = 1,
  password = "member-password-123",
): Promise<Record<string, string>> {
  const { hashPassword } = await import("../src/auth/crypto.ts");
  const { memberships, users, workspaces } = await import("@ops/db");
  const db = api.database.db;
  await db.insert(workspaces).values({ id: workspaceId, name: `Workspace ${workspaceId}` }).onConflictDoNothing();
  const [user] = await db
    .insert(users)
    .values({ username, passwordHash: await hashPassword(password) })
    .returning({ id: users.id });
  await db.insert(memberships).values({ workspaceId, userId: user!.id, role });
  return api.login(username, password);
}

/** Runs raw SQL against the suite's database (time travel, inspection). */
export async function sqlRows<T = Record<string, unknown>>(api: TestApi, text: string): Promise<T[]> {
  const { queryRows } = await import("@ops/db");
  const { sql } = await import("drizzle-orm");
  return queryRows<T>(api.database.db, sql.raw(text));
}

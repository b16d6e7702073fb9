import { createDb, seedDefaults } from "@ops/db";
import { bootstrapCredentials } from "./auth/bootstrap.ts";
import { startOutputRetention } from "./watchdog/output-retention.ts";
import { startWatchdogTimer } from "./watchdog/timer.ts";
import { loadEnv, startupWarnings } from "./env.ts";
import { createLogger } from "./logger.ts";
import { buildServer } from "./server.ts";
import { stopDispatchDeps } from "./deps.ts";

let env: ReturnType<typeof loadEnv>;
try {
  env = loadEnv();
} catch (error) {
  console.error((error as Error).message);
  process.exit(2);
}
const log = createLogger(env.LOG_LEVEL);
for (const warning of startupWarnings(env)) log.warn(warning);
const database = await createDb({ databaseUrl: env.DATABASE_URL, dataDir: env.OPS_DATA_DIR, maxConnections: env.DB_POOL_MAX });
await database.migrate();
await seedDefaults(database.db);
const { generated } = await bootstrapCredentials(database.db, env);
const { app, deps } = await buildServer(env, database, log);
const stopWatchdog = startWatchdogTimer(database.db, log, env.OPS_WATCHDOG_INTERVAL_MS);
const stopRetention = startOutputRetention(database.db, log);
await app.listen({ host: env.HOST, port: env.PORT });
const url = `http://${env.HOST}:${env.PORT}`;
log.info({ url, database: database.kind, dataDir: database.kind === "pglite" ? env.OPS_DATA_DIR : undefined }, "OPS Center API listening");

// Generated credentials are shown once, on the terminal, never through the logger.
if (generated.adminPassword || generated.serviceToken) {
  const lines = ["", "  OPS Center first start: generated credentials (shown once, store them now)"];
  if (generated.adminPassword) lines.push(`    admin user:      ${generated.adminUser}`, `    admin password:  ${generated.adminPassword}`);
  if (generated.serviceToken) lines.push(`    service token:   ${generated.serviceToken}`);
  lines.push(
    "  Sign in and follow Operación → Puesta en marcha to change them, or set OPS_ADMIN_USER/OPS_ADMIN_PASSWORD and OPS_SERVICE_TOKEN.",
    "",
  );
  process.stdout.write(`${lines.join("\n")}\n`);
}
process.stdout.write(`OPS Center ready at ${url}/ (API ${url}/api, tRPC ${url}/trpc)\n`);

let stopping = false;
async function shutdown(signal: string) {
  if (stopping) return;
  stopping = true;
  log.info({ signal }, "shutting down");
  stopWatchdog();
  stopRetention();
  // Parked requests are answered and pending heartbeats written before the connections close.
  await stopDispatchDeps(deps);
  await app.close();
  await database.close();
  process.exit(0);
}
process.on("SIGTERM", () => void shutdown("SIGTERM"));
process.on("SIGINT", () => void shutdown("SIGINT"));

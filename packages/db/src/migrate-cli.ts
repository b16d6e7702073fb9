import { isAbsolute, resolve } from "node:path";
import { createDb } from "./client.ts";
import { seedDefaults } from "./seed.ts";

// `pnpm db:migrate`: the same migrations the API applies at start.
// Relative to where the operator ran `pnpm db:migrate`, as the API resolves it.
const dataDir = process.env.OPS_DATA_DIR || "./.ops-data";
const database = await createDb({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: dataDir.startsWith("memory://") || isAbsolute(dataDir) ? dataDir : resolve(process.env.INIT_CWD ?? process.cwd(), dataDir),
});
await database.migrate();
await seedDefaults(database.db);
await database.close();
console.log(`[db] migrations applied (${database.kind})`);

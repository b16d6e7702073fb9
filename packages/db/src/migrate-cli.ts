import { createDb } from "./client.ts";
import { seedDefaults } from "./seed.ts";

// `pnpm db:migrate`: the same migrations the API applies at start.
const database = await createDb({
  databaseUrl: process.env.DATABASE_URL || undefined,
  dataDir: process.env.OPS_DATA_DIR || "./.ops-data",
});
await database.migrate();
await seedDefaults(database.db);
await database.close();
console.log(`[db] migrations applied (${database.kind})`);

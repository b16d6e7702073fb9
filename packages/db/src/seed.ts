import { SETTING_DEFAULTS } from "@ops/contract";
import { sql } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { agents, opsSettings, workspaces } from "./schema.ts";

/** The runbook's four runtimes, seeded into workspace 1 on first start. */
export const DEFAULT_AGENTS = [
  { slug: "opencode", name: "OpenCode" },
  { slug: "claudecode", name: "Claude Code" },
  { slug: "codex", name: "Codex" },
  { slug: "hermes", name: "Hermes" },
] as const;

/** Idempotent: safe on every start, never overwrites what an operator changed. */
export async function seedDefaults(db: DbOrTx): Promise<void> {
  await db.insert(workspaces).values({ id: 1, name: "Default" }).onConflictDoNothing();
  // An explicit id does not advance the serial; keep it ahead of the seeded row.
  await db.execute(
    sql`select setval(pg_get_serial_sequence('workspaces', 'id'), greatest((select max(id) from workspaces), 1))`,
  );
  await db
    .insert(agents)
    .values(DEFAULT_AGENTS.map((a) => ({ ...a, workspaceId: 1 })))
    .onConflictDoNothing();
  // The settings' defaults are owned by the contract; the seed writes them.
  await db
    .insert(opsSettings)
    .values(Object.entries(SETTING_DEFAULTS).map(([key, value]) => ({ key, value })))
    .onConflictDoNothing();
}

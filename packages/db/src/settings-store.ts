import { eq } from "drizzle-orm";
import type { DbOrTx } from "./client.ts";
import { opsSettings } from "./schema.ts";

// ops_settings as a plain key/value store. What a key means, its validation and
// its default belong to the contract (SETTINGS); these only read and write.

export async function readSetting(db: DbOrTx, key: string): Promise<string | undefined> {
  const [row] = await db.select({ value: opsSettings.value }).from(opsSettings).where(eq(opsSettings.key, key));
  return row?.value;
}

export async function writeSetting(db: DbOrTx, key: string, value: string, by: string | null): Promise<void> {
  await db
    .insert(opsSettings)
    .values({ key, value, updatedBy: by })
    .onConflictDoUpdate({ target: opsSettings.key, set: { value, updatedBy: by, updatedAt: new Date() } });
}

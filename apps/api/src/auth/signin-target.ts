import { createHmac } from "node:crypto";
import { type Db, opsSettings, readSetting, users } from "@ops/db";
import { eq } from "drizzle-orm";
import { generateToken } from "./crypto.ts";

/** Internal setting: the key of the audit log's hash of unknown sign-in names. */
const AUDIT_KEY_SETTING = "_audit_name_key";

const keys = new WeakMap<Db, Promise<string>>();

/** One key per database, the same on every API instance: created at start (bootstrap), never changed. */
export async function ensureAuditNameKey(db: Db): Promise<void> {
  await db.insert(opsSettings).values({ key: AUDIT_KEY_SETTING, value: generateToken(32), updatedBy: "system" }).onConflictDoNothing();
}

function auditKey(db: Db): Promise<string> {
  let key = keys.get(db);
  if (!key) {
    key = (async () => {
      await ensureAuditNameKey(db);
      const stored = await readSetting(db, AUDIT_KEY_SETTING);
      if (!stored) throw new Error("audit name key missing");
      return stored;
    })();
    // A failed read (database down) is retried by the next sign-in.
    key.catch(() => keys.delete(db));
    keys.set(db, key);
  }
  return key;
}

/**
 * What the audit log records as the target of a sign-in attempt: a known
 * username as it is; anything else as "unknown user" and a short keyed hash.
 * A password typed into the username field is then never stored, while
 * repeated attempts with the same name still count together (per-user limits)
 * and can be told apart, without the hash being reversible by a reader of
 * the log.
 */
export async function signInAuditTarget(db: Db, username: string): Promise<string> {
  const [known] = await db.select({ id: users.id }).from(users).where(eq(users.username, username));
  if (known) return username;
  const digest = createHmac("sha256", await auditKey(db)).update(username, "utf8").digest("hex").slice(0, 12);
  return `unknown user ${digest}`;
}

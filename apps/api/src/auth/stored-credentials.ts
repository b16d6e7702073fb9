import { type Db, readSetting, users } from "@ops/db";
import { eq } from "drizzle-orm";
import { PLACEHOLDER_PASSWORD, PLACEHOLDER_TOKEN } from "./credential-strength.ts";
import { tokenMatchesHash, verifyPassword } from "./crypto.ts";

// The start refuses placeholder credentials in the environment, but a value
// stored before that check existed stays in the database while the env no
// longer sets it (the service token without OPS_SERVICE_TOKEN, an admin
// password set from an older env file). Health names them.

/** scrypt results per stored hash: one check per instance admin and hash, not per health call. */
const adminChecks = new Map<string, Promise<boolean>>();

async function isPlaceholderPassword(passwordHash: string): Promise<boolean> {
  let check = adminChecks.get(passwordHash);
  if (!check) {
    check = verifyPassword(PLACEHOLDER_PASSWORD, passwordHash);
    if (adminChecks.size > 100) adminChecks.clear();
    adminChecks.set(passwordHash, check);
  }
  return check;
}

/** Stored credentials that are a deploy example's placeholder: "service_token", "admin:<username>". */
export async function storedPlaceholderCredentials(db: Db): Promise<string[]> {
  const found: string[] = [];
  const tokenHash = await readSetting(db, "service_api_token");
  // Either example value: both were accepted as a token (≥ 24 characters) before the start-time check.
  if (tokenHash && [PLACEHOLDER_TOKEN, PLACEHOLDER_PASSWORD].some((p) => tokenMatchesHash(p, tokenHash))) found.push("service_token");
  const admins = await db
    .select({ username: users.username, passwordHash: users.passwordHash })
    .from(users)
    .where(eq(users.isInstanceAdmin, true))
    .limit(20);
  for (const admin of admins) if (await isPlaceholderPassword(admin.passwordHash)) found.push(`admin:${admin.username}`);
  return found;
}

import { auditLog, type Db, memberships, sessions, users } from "@ops/db";
import { and, count, eq, gt, sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { OpsError } from "../errors.ts";
import { generateToken, hashPassword, hashToken, verifyPassword } from "./crypto.ts";
import { signInAuditTarget } from "./signin-target.ts";

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;
const WINDOW_MINUTES = 15;
/** Failed attempts per client address, and per username, within the window. */
export const LOGIN_LIMITS = { perClient: 20, perUser: 8 } as const;

// Verifying against a throwaway hash when the user does not exist keeps the
// answer time the same, so timing does not reveal which usernames exist.
let decoyHash: Promise<string> | undefined;

/**
 * Checks credentials and opens a session. Failures are audited; the audit log
 * is also the rate limiter's memory, so limits hold across API instances.
 */
export async function login(
  db: Db,
  username: string,
  password: string,
  ip: string | null,
): Promise<{ cookie: string; expiresAt: Date; userId: number }> {
  // A password typed as the username must not land in the audit log.
  const target = await signInAuditTarget(db, username);
  const since = sql`now() - make_interval(mins => ${WINDOW_MINUTES})`;
  const [byClient] = await db
    .select({ n: count() })
    .from(auditLog)
    .where(and(eq(auditLog.action, "auth.login_failed"), gt(auditLog.createdAt, since), eq(auditLog.ip, ip ?? "")));
  const [byUser] = await db
    .select({ n: count() })
    .from(auditLog)
    .where(
      and(
        eq(auditLog.action, "auth.login_failed"),
        gt(auditLog.createdAt, since),
        eq(auditLog.targetType, "user"),
        eq(auditLog.targetId, target),
      ),
    );
  if ((byClient?.n ?? 0) >= LOGIN_LIMITS.perClient || (byUser?.n ?? 0) >= LOGIN_LIMITS.perUser) {
    await audit(db, {
      actor: "anonymous",
      action: "auth.login_locked",
      targetType: "user",
      targetId: target,
      details: { client_failures: byClient?.n ?? 0, user_failures: byUser?.n ?? 0 },
      ip,
    });
    throw new OpsError("RATE_LIMITED", `too many failed sign-ins; try again in ${WINDOW_MINUTES} minutes`);
  }

  const [user] = await db.select().from(users).where(eq(users.username, username));
  decoyHash ??= hashPassword(generateToken());
  const ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
  if (!user || !ok) {
    await audit(db, { actor: "anonymous", action: "auth.login_failed", targetType: "user", targetId: target, ip });
    throw new OpsError("UNAUTHORIZED", "invalid username or password");
  }
  // Said only to someone who knows the password: it reveals nothing to a guesser.
  if (user.disabledAt) {
    await audit(db, { actor: "anonymous", action: "auth.login_disabled", targetType: "user", targetId: username, ip });
    throw new OpsError("UNAUTHORIZED", "this account is disabled", { params: { reason: "account_disabled" } });
  }
  const cookie = generateToken();
  const expiresAt = new Date(Date.now() + SESSION_TTL_MS);
  await db.insert(sessions).values({ idHash: hashToken(cookie), userId: user.id, expiresAt, ip });
  await audit(db, { actor: `user:${user.username}`, action: "auth.login", targetType: "user", targetId: username, ip });
  return { cookie, expiresAt, userId: user.id };
}

export async function logout(db: Db, sessionIdHash: string): Promise<void> {
  await db.delete(sessions).where(eq(sessions.idHash, sessionIdHash));
}

/**
 * Creates the admin or, when the password differs from the stored one, rotates
 * it: the change time moves forward and every older session stops working.
 */
export async function upsertAdmin(
  db: Db,
  username: string,
  password: string,
): Promise<"created" | "rotated" | "unchanged"> {
  const [existing] = await db.select().from(users).where(eq(users.username, username));
  let outcome: "created" | "rotated" | "unchanged";
  let userId: number;
  if (!existing) {
    const [created] = await db
      .insert(users)
      .values({ username, passwordHash: await hashPassword(password), isInstanceAdmin: true })
      .returning({ id: users.id });
    userId = created!.id;
    outcome = "created";
  } else {
    userId = existing.id;
    const same = await verifyPassword(password, existing.passwordHash);
    outcome = same ? "unchanged" : "rotated";
    if (!same || !existing.isInstanceAdmin) {
      await db
        .update(users)
        .set({
          isInstanceAdmin: true,
          ...(same ? {} : { passwordHash: await hashPassword(password), passwordChangedAt: new Date() }),
        })
        .where(eq(users.id, userId));
    }
    if (!same) await db.delete(sessions).where(eq(sessions.userId, userId));
  }
  await db
    .insert(memberships)
    .values({ workspaceId: 1, userId, role: "admin" })
    .onConflictDoUpdate({ target: [memberships.workspaceId, memberships.userId], set: { role: "admin" } });
  if (outcome !== "unchanged") {
    await audit(db, { actor: "system", action: `auth.admin_${outcome}`, targetType: "user", targetId: username });
  }
  return outcome;
}

export async function anyInstanceAdmin(db: Db): Promise<boolean> {
  const [row] = await db
    .select({ n: count() })
    .from(users)
    .where(eq(users.isInstanceAdmin, true));
  return (row?.n ?? 0) > 0;
}

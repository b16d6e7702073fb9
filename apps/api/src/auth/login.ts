import { type Db, loginAttempts, memberships, queryRows, sessions, users } from "@ops/db";
import { and, count, eq, type SQL, sql } from "drizzle-orm";
import { audit } from "../audit.ts";
import { OpsError } from "../errors.ts";
import { generateToken, hashPassword, hashToken, verifyPassword } from "./crypto.ts";
import { signInAuditTarget } from "./signin-target.ts";

export const SESSION_TTL_MS = 12 * 60 * 60 * 1000;

/**
 * Sign-in limits, per (account, client address) and per client address over
 * every account. The first `free` failures cost nothing more; each failure
 * after them locks that key for twice as long as the one before (30 s, 1 min,
 * 2 min, … up to `maxDelaySeconds`). A key quiet for `resetHours` starts over,
 * and a success clears its (account, client) key. Nothing locks an account
 * from everywhere: the right password from another client still signs in.
 */
export const LOGIN_LIMITS = {
  perUserClient: { free: 5 },
  perClient: { free: 20 },
  firstDelaySeconds: 30,
  maxDelaySeconds: 15 * 60,
  resetHours: 24,
  /** scrypt checks running at once in this instance (32 MiB each); more are refused at once. */
  concurrentChecks: 4,
} as const;

/** The key of a client's count over every account. */
const ANY_USER = "*";

// Verifying against a throwaway hash when the user does not exist keeps the
// answer time the same, so timing does not reveal which usernames exist.
let decoyHash: Promise<string> | undefined;

/** Password checks in flight in this process (the semaphore of LOGIN_LIMITS.concurrentChecks). */
let checksInFlight = 0;
let checksPeak = 0;

/** The semaphore's state: checks running now and the most ever at once (tests, diagnostics). */
export function passwordChecks(): { inFlight: number; peak: number } {
  return { inFlight: checksInFlight, peak: checksPeak };
}

interface Reservation {
  failures: number;
}

/**
 * Counts an attempt on a key before the password is checked, in one statement:
 * the row lock of INSERT … ON CONFLICT serialises parallel attempts on the same
 * key, so each sees the previous one's count. Returns undefined when the key
 * is locked (nothing reserved).
 */
async function reserveAttempt(db: Db, userKey: string, client: string, free: number): Promise<Reservation | undefined> {
  const next = sql`(case when la.updated_at < now() - make_interval(hours => ${LOGIN_LIMITS.resetHours}) then 1 else la.failures + 1 end)`;
  const lockFor = (n: SQL) =>
    sql`(case when ${n} > ${free} then now() + make_interval(secs => least(${LOGIN_LIMITS.firstDelaySeconds} * power(2, ${n} - ${free} - 1), ${LOGIN_LIMITS.maxDelaySeconds})) end)`;
  const rows = await queryRows<{ failures: number }>(
    db,
    sql`insert into login_attempts as la (user_key, client, failures, locked_until, refused, updated_at)
        values (${userKey}, ${client}, 1, null, 0, now())
        on conflict (user_key, client) do update set
          failures = ${next},
          locked_until = ${lockFor(next)},
          refused = case when la.updated_at < now() - make_interval(hours => ${LOGIN_LIMITS.resetHours}) then 0 else la.refused end,
          updated_at = now()
        where la.locked_until is null or la.locked_until <= now()
        returning failures`,
  );
  return rows[0] ? { failures: Number(rows[0].failures) } : undefined;
}

/** A refused attempt on a locked key: counted, and how long the lock still holds. */
async function countRefused(db: Db, userKey: string, client: string): Promise<{ refused: number; failures: number; seconds: number }> {
  const [row] = await queryRows<{ refused: number; failures: number; seconds: number }>(
    db,
    sql`update login_attempts set refused = refused + 1
        where user_key = ${userKey} and client = ${client}
        returning refused, failures, greatest(1, ceil(extract(epoch from (locked_until - now()))))::int as seconds`,
  );
  return { refused: Number(row?.refused ?? 1), failures: Number(row?.failures ?? 0), seconds: Number(row?.seconds ?? 1) };
}

/**
 * Gives back a reserved attempt that was never checked, or that succeeded (the
 * client-wide count), with the lock it may have set.
 */
async function refund(db: Db, userKey: string, client: string, free: number): Promise<void> {
  await db.execute(
    sql`update login_attempts set failures = greatest(failures - 1, 0),
          locked_until = case when failures - 1 > ${free} then locked_until end
        where user_key = ${userKey} and client = ${client}`,
  );
}

let lastSweep = 0;
/** Rows quiet for longer than the reset period mean nothing any more; removed at most every 10 minutes. */
async function sweepOldAttempts(db: Db): Promise<void> {
  if (Date.now() - lastSweep < 10 * 60_000) return;
  lastSweep = Date.now();
  await db.execute(
    sql`delete from login_attempts where updated_at < now() - make_interval(hours => ${LOGIN_LIMITS.resetHours})
        and (locked_until is null or locked_until < now())`,
  );
}

const isPowerOfTwo = (n: number) => n > 0 && (n & (n - 1)) === 0;

/**
 * Checks credentials and opens a session. Each attempt is reserved in
 * login_attempts before the (slow, memory-hard) password check, so parallel
 * guesses are limited as sequential ones are; checked failures are audited one
 * row each, refused ones counted (an audit row at the 1st, 2nd, 4th, 8th, …).
 */
export async function login(
  db: Db,
  username: string,
  password: string,
  ip: string | null,
): Promise<{ cookie: string; expiresAt: Date; userId: number }> {
  // A password typed as the username must not land in the audit log.
  const target = await signInAuditTarget(db, username);
  const client = ip ?? "";
  await sweepOldAttempts(db);

  const locked = async (userKey: string) => {
    const { refused, failures, seconds } = await countRefused(db, userKey, client);
    if (isPowerOfTwo(refused)) {
      await audit(db, {
        actor: "anonymous",
        action: "auth.login_locked",
        targetType: "user",
        targetId: target,
        details: { scope: userKey === ANY_USER ? "client" : "user_client", failures, refused, retry_after_seconds: seconds },
        ip,
      });
    }
    return new OpsError("RATE_LIMITED", `too many failed sign-ins from this address; try again in ${seconds} seconds`, {
      params: { retry_after_seconds: seconds },
    });
  };

  if (!(await reserveAttempt(db, ANY_USER, client, LOGIN_LIMITS.perClient.free))) throw await locked(ANY_USER);
  if (!(await reserveAttempt(db, target, client, LOGIN_LIMITS.perUserClient.free))) {
    await refund(db, ANY_USER, client, LOGIN_LIMITS.perClient.free);
    throw await locked(target);
  }
  // Bounded CPU and memory: beyond the semaphore, refused at once (the reservation given back).
  if (checksInFlight >= LOGIN_LIMITS.concurrentChecks) {
    await refund(db, target, client, LOGIN_LIMITS.perUserClient.free);
    await refund(db, ANY_USER, client, LOGIN_LIMITS.perClient.free);
    throw new OpsError("RATE_LIMITED", "too many sign-ins in progress; try again in a moment", { params: { retry_after_seconds: 1 } });
  }
  checksInFlight++;
  checksPeak = Math.max(checksPeak, checksInFlight);
  let user: typeof users.$inferSelect | undefined;
  let ok: boolean;
  try {
    [user] = await db.select().from(users).where(eq(users.username, username));
    decoyHash ??= hashPassword(generateToken());
    ok = await verifyPassword(password, user?.passwordHash ?? (await decoyHash));
  } finally {
    checksInFlight--;
  }
  if (!user || !ok) {
    await audit(db, { actor: "anonymous", action: "auth.login_failed", targetType: "user", targetId: target, ip });
    throw new OpsError("UNAUTHORIZED", "invalid username or password");
  }
  // The right password: this client's count for the account starts over.
  await db.delete(loginAttempts).where(and(eq(loginAttempts.userKey, target), eq(loginAttempts.client, client)));
  await refund(db, ANY_USER, client, LOGIN_LIMITS.perClient.free);
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

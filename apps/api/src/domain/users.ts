import type { TCreateUserInput, TUser } from "@ops/contract";
import { type Db, type DbOrTx, memberships, sessions, users, workspaces } from "@ops/db";
import { and, asc, count, eq, inArray, isNull, ne } from "drizzle-orm";
import { forgetGeneratedAdminPassword } from "../auth/bootstrap.ts";
import { credentialWeakness } from "../auth/credential-strength.ts";
import { hashPassword, verifyPassword } from "../auth/crypto.ts";
import { actorName, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { forbidden, invalid, notFound, OpsError } from "../errors.ts";

// Users as instance admins manage them: created, disabled (never deleted, so
// the audit log's actors keep a name), passwords reset; and everyone's own
// password change.

async function toUserDtos(db: DbOrTx, rows: (typeof users.$inferSelect)[]): Promise<TUser[]> {
  const ids = rows.map((r) => r.id);
  const roles = ids.length
    ? await db
        .select({ userId: memberships.userId, workspaceId: memberships.workspaceId, name: workspaces.name, role: memberships.role })
        .from(memberships)
        .innerJoin(workspaces, eq(workspaces.id, memberships.workspaceId))
        .where(inArray(memberships.userId, ids))
        .orderBy(asc(memberships.workspaceId))
    : [];
  return rows.map((u) => ({
    id: u.id,
    username: u.username,
    is_instance_admin: u.isInstanceAdmin,
    disabled: u.disabledAt !== null,
    disabled_at: u.disabledAt?.toISOString() ?? null,
    memberships: roles
      .filter((r) => r.userId === u.id)
      .map((r) => ({ workspace_id: r.workspaceId, workspace_name: r.name, role: r.role })),
    created_at: u.createdAt.toISOString(),
  }));
}

async function userDto(db: DbOrTx, id: number): Promise<TUser> {
  const [row] = await db.select().from(users).where(eq(users.id, id));
  if (!row) throw notFound(`user ${id}`);
  return (await toUserDtos(db, [row]))[0]!;
}

/** The start's rule for OPS_ADMIN_PASSWORD, for passwords set in the app too (never echoing the value). */
function refuseWeakPassword(field: string, password: string): void {
  const weakness = credentialWeakness(password, "password");
  if (weakness) throw invalid(field, `the password ${weakness}`, { reason: "password_weak" });
}

export async function listUsers(db: Db): Promise<TUser[]> {
  return toUserDtos(db, await db.select().from(users).orderBy(asc(users.username)));
}

export async function createUser(db: Db, principal: Principal, input: TCreateUserInput, ip: string | null): Promise<TUser> {
  refuseWeakPassword("password", input.password);
  const passwordHash = await hashPassword(input.password);
  return db.transaction(async (tx) => {
    const [taken] = await tx.select({ id: users.id }).from(users).where(eq(users.username, input.username));
    if (taken) throw new OpsError("CONFLICT", `user ${input.username} already exists`, { field: "username", params: { username: input.username } });
    if (input.workspace_id !== undefined) {
      const [ws] = await tx.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, input.workspace_id));
      if (!ws) throw notFound(`workspace ${input.workspace_id}`);
    }
    const [row] = await tx
      .insert(users)
      .values({ username: input.username, passwordHash, isInstanceAdmin: input.is_instance_admin ?? false })
      .returning({ id: users.id });
    if (input.workspace_id !== undefined) {
      await tx.insert(memberships).values({ workspaceId: input.workspace_id, userId: row!.id, role: input.role ?? "member" });
    }
    await audit(tx, {
      actor: actorName(principal),
      action: "user.created",
      targetType: "user",
      targetId: input.username,
      details: {
        is_instance_admin: input.is_instance_admin ?? false,
        ...(input.workspace_id !== undefined ? { workspace_id: input.workspace_id, role: input.role ?? "member" } : {}),
      },
      ip,
    });
    return userDto(tx, row!.id);
  });
}

/** Ends every session of a user (all of them, or all but the caller's own). */
async function endSessions(db: DbOrTx, userId: number, keepIdHash?: string): Promise<void> {
  await db.delete(sessions).where(and(eq(sessions.userId, userId), keepIdHash ? ne(sessions.idHash, keepIdHash) : undefined));
}

/**
 * Disables a user: no sign-in, and its sessions end now. Nobody disables
 * themselves, and the last enabled instance admin stays, so the instance is
 * never left without someone who can undo it.
 */
export async function setUserDisabled(db: Db, principal: Principal, id: number, disabled: boolean, ip: string | null): Promise<TUser> {
  return db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, id)).for("update");
    if (!user) throw notFound(`user ${id}`);
    if (disabled && principal.kind === "user" && principal.userId === id) {
      throw forbidden("you cannot disable your own account", { reason: "own_account" });
    }
    if (disabled && user.isInstanceAdmin && user.disabledAt === null) {
      const [others] = await tx
        .select({ n: count() })
        .from(users)
        .where(and(eq(users.isInstanceAdmin, true), isNull(users.disabledAt), ne(users.id, id)));
      if ((others?.n ?? 0) === 0) {
        throw new OpsError("CONFLICT", `${user.username} is the last enabled instance admin`, {
          params: { reason: "last_instance_admin", username: user.username },
        });
      }
    }
    if (disabled !== (user.disabledAt !== null)) {
      await tx.update(users).set({ disabledAt: disabled ? new Date() : null }).where(eq(users.id, id));
      if (disabled) await endSessions(tx, id);
      await audit(tx, { actor: actorName(principal), action: disabled ? "user.disabled" : "user.enabled", targetType: "user", targetId: user.username, ip });
    }
    return userDto(tx, id);
  });
}

/** Stores a new password; the change time moves forward (older sessions stop working). */
async function storePassword(tx: DbOrTx, user: typeof users.$inferSelect, password: string, at: Date): Promise<void> {
  await tx.update(users).set({ passwordHash: await hashPassword(password), passwordChangedAt: at }).where(eq(users.id, user.id));
  // A generated first-start password replaced by a person's choice is no longer a health problem.
  if (user.isInstanceAdmin) await forgetGeneratedAdminPassword(tx, user.username);
}

/** An instance admin sets someone's password; all of that user's sessions end. */
export async function resetPassword(db: Db, principal: Principal, id: number, password: string, ip: string | null): Promise<TUser> {
  refuseWeakPassword("password", password);
  return db.transaction(async (tx) => {
    const [user] = await tx.select().from(users).where(eq(users.id, id)).for("update");
    if (!user) throw notFound(`user ${id}`);
    await storePassword(tx, user, password, new Date());
    await endSessions(tx, id);
    await audit(tx, { actor: actorName(principal), action: "user.password_reset", targetType: "user", targetId: user.username, ip });
    return userDto(tx, id);
  });
}

/**
 * A signed-in user changes their own password: the current one must be
 * right; every other session of theirs ends, the one in use stays.
 */
export async function changeOwnPassword(
  db: Db,
  principal: Principal,
  input: { current_password: string; new_password: string },
  ip: string | null,
): Promise<void> {
  if (principal.kind !== "user") throw forbidden("only a signed-in user has a password to change");
  const [user] = await db.select().from(users).where(eq(users.id, principal.userId));
  if (!user) throw notFound(`user ${principal.userId}`);
  if (!(await verifyPassword(input.current_password, user.passwordHash))) {
    await audit(db, { actor: actorName(principal), action: "auth.password_change_failed", targetType: "user", targetId: user.username, ip });
    throw new OpsError("VALIDATION", "the current password is not right", { field: "current_password", params: { reason: "password_wrong", field: "current_password" } });
  }
  if (await verifyPassword(input.new_password, user.passwordHash)) {
    throw new OpsError("VALIDATION", "the new password is the current one", { field: "new_password", params: { reason: "password_reused", field: "new_password" } });
  }
  refuseWeakPassword("new_password", input.new_password);
  await db.transaction(async (tx) => {
    const at = new Date();
    await storePassword(tx, user, input.new_password, at);
    await endSessions(tx, user.id, principal.sessionIdHash);
    // The session in use was opened before the change: it counts as opened now, so it stays.
    await tx.update(sessions).set({ createdAt: at }).where(eq(sessions.idHash, principal.sessionIdHash));
    await audit(tx, { actor: actorName(principal), action: "auth.password_changed", targetType: "user", targetId: user.username, ip });
  });
}

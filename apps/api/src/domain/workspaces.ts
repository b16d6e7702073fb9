import type { TMember, TRole, TWorkspace } from "@ops/contract";
import { type Db, type DbOrTx, memberships, users, workspaces } from "@ops/db";
import { and, asc, eq } from "drizzle-orm";
import { actorName, assertWorkspaceRole, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { forbidden, notFound, OpsError } from "../errors.ts";

/** Workspaces the caller can see, with the caller's role in each. */
export async function listWorkspaces(db: Db, principal: Principal) {
  const rows = await db.select().from(workspaces).orderBy(asc(workspaces.id));
  if (principal.kind === "service") return rows.map((w) => ({ id: w.id, name: w.name, role: "admin" as const }));
  if (principal.kind !== "user") return [];
  if (principal.isInstanceAdmin) {
    return rows.map((w) => ({ id: w.id, name: w.name, role: principal.roles.get(w.id) ?? ("admin" as const) }));
  }
  return rows.filter((w) => principal.roles.has(w.id)).map((w) => ({ id: w.id, name: w.name, role: principal.roles.get(w.id)! }));
}

const asSeenBy = (principal: Principal, w: { id: number; name: string }): TWorkspace => ({
  id: w.id,
  name: w.name,
  role: principal.kind === "user" ? (principal.roles.get(w.id) ?? "admin") : "admin",
});

export async function createWorkspace(db: Db, principal: Principal, name: string, ip: string | null): Promise<TWorkspace> {
  return db.transaction(async (tx) => {
    const [row] = await tx.insert(workspaces).values({ name }).returning();
    await audit(tx, { actor: actorName(principal), action: "workspace.created", targetType: "workspace", targetId: row!.id, details: { name }, ip });
    return asSeenBy(principal, row!);
  });
}

export async function renameWorkspace(db: Db, principal: Principal, id: number, name: string, ip: string | null): Promise<TWorkspace> {
  return db.transaction(async (tx) => {
    const [before] = await tx.select().from(workspaces).where(eq(workspaces.id, id)).for("update");
    if (!before) throw notFound(`workspace ${id}`);
    await tx.update(workspaces).set({ name }).where(eq(workspaces.id, id));
    await audit(tx, { actor: actorName(principal), action: "workspace.renamed", targetType: "workspace", targetId: id, details: { from: before.name, to: name }, ip });
    return asSeenBy(principal, { id, name });
  });
}

const memberColumns = { user_id: users.id, username: users.username, role: memberships.role, disabledAt: users.disabledAt };
const toMember = (r: { user_id: number; username: string; role: TRole; disabledAt: Date | null }): TMember => ({
  user_id: r.user_id,
  username: r.username,
  role: r.role,
  disabled: r.disabledAt !== null,
});

/** A workspace admin manages its workspace (instance admins and the service token any); 404 for a workspace that is not the caller's. */
async function assertManages(db: DbOrTx, principal: Principal, workspaceId: number): Promise<void> {
  const [ws] = await db.select({ id: workspaces.id }).from(workspaces).where(eq(workspaces.id, workspaceId));
  if (!ws) throw notFound(`workspace ${workspaceId}`);
  assertWorkspaceRole(principal, workspaceId, "admin");
}

/**
 * A workspace admin changing or removing their own membership could lock the
 * workspace out of its last admin: that is for someone else (or an instance admin) to do.
 */
function assertNotSelf(principal: Principal, userId: number): void {
  if (principal.kind === "user" && principal.userId === userId && !principal.isInstanceAdmin) {
    throw forbidden("ask another admin to change your own membership", { reason: "own_membership" });
  }
}

export async function listMembers(db: Db, principal: Principal, workspaceId: number): Promise<TMember[]> {
  await assertManages(db, principal, workspaceId);
  const rows = await db
    .select(memberColumns)
    .from(memberships)
    .innerJoin(users, eq(users.id, memberships.userId))
    .where(eq(memberships.workspaceId, workspaceId))
    .orderBy(asc(users.username));
  return rows.map(toMember);
}

export async function addMember(
  db: Db,
  principal: Principal,
  input: { workspace_id: number; username: string; role: TRole },
  ip: string | null,
): Promise<TMember> {
  return db.transaction(async (tx) => {
    await assertManages(tx, principal, input.workspace_id);
    const [user] = await tx.select().from(users).where(eq(users.username, input.username));
    if (!user) {
      throw new OpsError("VALIDATION", `no user ${input.username}; an instance admin creates users`, {
        field: "username",
        params: { reason: "no_such_user", field: "username", username: input.username },
      });
    }
    assertNotSelf(principal, user.id);
    await tx
      .insert(memberships)
      .values({ workspaceId: input.workspace_id, userId: user.id, role: input.role })
      .onConflictDoUpdate({ target: [memberships.workspaceId, memberships.userId], set: { role: input.role } });
    await audit(tx, {
      actor: actorName(principal),
      action: "membership.added",
      targetType: "workspace",
      targetId: input.workspace_id,
      details: { username: user.username, role: input.role },
      ip,
    });
    return toMember({ user_id: user.id, username: user.username, role: input.role, disabledAt: user.disabledAt });
  });
}

export async function setMemberRole(
  db: Db,
  principal: Principal,
  input: { workspace_id: number; user_id: number; role: TRole },
  ip: string | null,
): Promise<TMember> {
  return db.transaction(async (tx) => {
    await assertManages(tx, principal, input.workspace_id);
    assertNotSelf(principal, input.user_id);
    const where = and(eq(memberships.workspaceId, input.workspace_id), eq(memberships.userId, input.user_id));
    const [before] = await tx.select(memberColumns).from(memberships).innerJoin(users, eq(users.id, memberships.userId)).where(where).for("update", { of: memberships });
    if (!before) throw notFound(`member ${input.user_id} of workspace ${input.workspace_id}`);
    await tx.update(memberships).set({ role: input.role }).where(where);
    await audit(tx, {
      actor: actorName(principal),
      action: "membership.role_changed",
      targetType: "workspace",
      targetId: input.workspace_id,
      details: { username: before.username, from: before.role, to: input.role },
      ip,
    });
    return toMember({ ...before, role: input.role });
  });
}

export async function removeMember(db: Db, principal: Principal, input: { workspace_id: number; user_id: number }, ip: string | null): Promise<void> {
  await db.transaction(async (tx) => {
    await assertManages(tx, principal, input.workspace_id);
    assertNotSelf(principal, input.user_id);
    const removed = await tx
      .delete(memberships)
      .where(and(eq(memberships.workspaceId, input.workspace_id), eq(memberships.userId, input.user_id)))
      .returning({ userId: memberships.userId });
    if (removed.length === 0) throw notFound(`member ${input.user_id} of workspace ${input.workspace_id}`);
    const [user] = await tx.select({ username: users.username }).from(users).where(eq(users.id, input.user_id));
    await audit(tx, {
      actor: actorName(principal),
      action: "membership.removed",
      targetType: "workspace",
      targetId: input.workspace_id,
      details: { username: user?.username ?? String(input.user_id) },
      ip,
    });
  });
}

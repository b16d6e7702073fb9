import type { Contract, ProcedureInput, TWorkerCredential } from "@ops/contract";
import { type Db, type DbOrTx, workerCredentials, workerHeartbeats, workspaces } from "@ops/db";
import { and, asc, eq, inArray, isNull, sql } from "drizzle-orm";
import { generateWorkerToken, notifyCredentialChanged } from "../auth/worker-token.ts";
import { actorName, adminWorkspaces, assertWorkspaceRole, isInstanceOperator, type Principal } from "../auth/principal.ts";
import { hashToken } from "../auth/crypto.ts";
import { audit } from "../audit.ts";
import { forbidden, invalid, notFound, OpsError } from "../errors.ts";
import { toWorkerCredentialDto } from "./serialize.ts";

// Worker tokens: a launcher's own credential, bound to one worker id and to
// the workspaces its pool serves. Instance admins (and the service token)
// issue any pool, the whole instance included; a workspace admin issues pools
// of the workspaces it administers, and manages only those tokens.

const describePool = (pool: readonly number[] | null) => (pool === null ? "the whole instance" : `workspace(s) ${pool.join(", ")}`);
const samePool = (a: readonly number[] | null, b: readonly number[] | null) =>
  a === null || b === null ? a === b : a.length === b.length && a.every((id, i) => id === b[i]);

/** Whether the caller manages tokens of this pool: every workspace of it is one the caller administers. */
function managesPool(principal: Principal, pool: readonly number[] | null): boolean {
  const mine = adminWorkspaces(principal);
  if (mine === null) return true;
  return pool?.every((id) => mine.includes(id)) ?? false;
}

/** Refuses a pool the caller may not issue, naming why: the whole instance, or a workspace it does not administer. */
async function assertMayIssuePool(db: DbOrTx, principal: Principal, pool: readonly number[] | null): Promise<void> {
  if (pool === null) {
    if (isInstanceOperator(principal)) return;
    throw forbidden("a worker token for the whole instance needs an instance admin; name the workspaces of its pool", "workspace_ids");
  }
  for (const id of pool) assertWorkspaceRole(principal, id, "admin");
  const known = await db.select({ id: workspaces.id }).from(workspaces).where(inArray(workspaces.id, [...pool]));
  const missing = pool.filter((id) => !known.some((k) => k.id === id));
  if (missing.length > 0) throw invalid("workspace_ids", `no workspace ${missing.join(", ")}`);
}

/**
 * A worker id belongs to one pool: all its active tokens serve the same
 * workspaces, and a workspace admin may not take over the id of a launcher
 * that serves more than its own workspaces (its heartbeats would overwrite
 * that launcher's and get its tasks reconciled as lost).
 */
async function assertWorkerIdFree(db: DbOrTx, principal: Principal, workerId: string, pool: readonly number[] | null): Promise<void> {
  const active = await db
    .select({ workspaceIds: workerCredentials.workspaceIds })
    .from(workerCredentials)
    .where(and(eq(workerCredentials.workerId, workerId), isNull(workerCredentials.revokedAt)));
  const other = active.find((c) => !samePool(c.workspaceIds, pool));
  if (other) {
    throw new OpsError(
      "CONFLICT",
      `worker ${workerId} already has an active token for ${describePool(other.workspaceIds)}; revoke it first or choose another worker id`,
      "worker_id",
    );
  }
  if (isInstanceOperator(principal)) return;
  const [seen] = await db
    .select({ kind: workerHeartbeats.credentialKind, pool: workerHeartbeats.poolWorkspaceIds })
    .from(workerHeartbeats)
    .where(eq(workerHeartbeats.workerId, workerId));
  if (seen && !managesPool(principal, seen.kind === "service" ? null : seen.pool)) {
    throw new OpsError("CONFLICT", `worker id ${workerId} is taken by a launcher outside your workspaces; choose another worker id`, "worker_id");
  }
}

export async function issueWorkerToken(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["workers"]["issueToken"]>,
  ip: string | null,
): Promise<{ credential: TWorkerCredential; token: string }> {
  const pool = input.workspace_ids;
  await assertMayIssuePool(db, principal, pool);
  return db.transaction(async (tx) => {
    // Two issues for one worker id must not both pass the pool check.
    await tx.execute(sql`select pg_advisory_xact_lock(hashtext(${`worker_credentials:${input.worker_id}`}))`);
    await assertWorkerIdFree(tx, principal, input.worker_id, pool);
    const token = generateWorkerToken();
    const [row] = await tx
      .insert(workerCredentials)
      .values({
        workerId: input.worker_id,
        label: input.label ?? "",
        tokenHash: hashToken(token),
        workspaceIds: pool === null ? null : [...pool],
        createdBy: actorName(principal),
      })
      .returning();
    await audit(tx, {
      actor: actorName(principal),
      action: "worker_token.issued",
      targetType: "worker_token",
      targetId: row!.id,
      details: { worker_id: input.worker_id, workspace_ids: pool, label: input.label ?? "" },
      ip,
    });
    return { credential: toWorkerCredentialDto(row!), token };
  });
}

export async function listWorkerTokens(db: Db, principal: Principal, includeRevoked: boolean): Promise<TWorkerCredential[]> {
  const rows = await db
    .select()
    .from(workerCredentials)
    .where(includeRevoked ? undefined : isNull(workerCredentials.revokedAt))
    .orderBy(asc(workerCredentials.workerId), asc(workerCredentials.id));
  return rows.filter((r) => managesPool(principal, r.workspaceIds)).map(toWorkerCredentialDto);
}

/** Revokes a token the caller manages (another pool's answers as missing); revoking twice changes nothing. */
export async function revokeWorkerToken(db: Db, principal: Principal, id: number, ip: string | null): Promise<TWorkerCredential> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(workerCredentials).where(eq(workerCredentials.id, id)).for("update");
    if (!existing || !managesPool(principal, existing.workspaceIds)) throw notFound(`worker token ${id}`);
    if (existing.revokedAt) return toWorkerCredentialDto(existing);
    const [row] = await tx
      .update(workerCredentials)
      .set({ revokedAt: new Date(), revokedBy: actorName(principal) })
      .where(eq(workerCredentials.id, id))
      .returning();
    // In the same transaction: every instance's cached copy is dropped at commit (any change of worker id or pool must do the same).
    await notifyCredentialChanged(tx, id);
    await audit(tx, {
      actor: actorName(principal),
      action: "worker_token.revoked",
      targetType: "worker_token",
      targetId: id,
      details: { worker_id: existing.workerId, workspace_ids: existing.workspaceIds },
      ip,
    });
    return toWorkerCredentialDto(row!);
  });
}

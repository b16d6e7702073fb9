import { WORKER_TOKEN_PREFIX } from "@ops/contract";
import { type Db, type DbOrTx, workerCredentials } from "@ops/db";
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import { generateToken, hashToken } from "./crypto.ts";
import type { Principal } from "./principal.ts";

/** last_used_at is refreshed at most this often per token, so authenticating costs no write per request. */
export const LAST_USED_GRANULARITY_MS = 60_000;

/** A fresh worker token: the prefix, then 32 random bytes (43 url-safe characters). */
export const generateWorkerToken = () => `${WORKER_TOKEN_PREFIX}${generateToken(32)}`;

/**
 * The principal of a presented worker token, or undefined when it is unknown
 * or revoked. Not cached: a revocation holds on every API instance from the
 * next request, at the cost of one indexed read (the claim statement alone is
 * about ten times that).
 */
export async function workerPrincipal(db: Db, token: string): Promise<Extract<Principal, { kind: "worker" }> | undefined> {
  if (!token.startsWith(WORKER_TOKEN_PREFIX)) return undefined;
  const [row] = await db
    .select({
      id: workerCredentials.id,
      workerId: workerCredentials.workerId,
      label: workerCredentials.label,
      workspaceIds: workerCredentials.workspaceIds,
      lastUsedAt: workerCredentials.lastUsedAt,
    })
    .from(workerCredentials)
    .where(and(eq(workerCredentials.tokenHash, hashToken(token)), isNull(workerCredentials.revokedAt)));
  if (!row) return undefined;
  if (!row.lastUsedAt || Date.now() - row.lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS) await touchLastUsed(db, row.id);
  return { kind: "worker", credentialId: row.id, workerId: row.workerId, label: row.label, workspaceIds: row.workspaceIds };
}

/** Guarded in SQL too, so instances racing on the same token write once. */
async function touchLastUsed(db: DbOrTx, id: number): Promise<void> {
  await db
    .update(workerCredentials)
    .set({ lastUsedAt: new Date() })
    .where(
      and(
        eq(workerCredentials.id, id),
        or(
          isNull(workerCredentials.lastUsedAt),
          lt(workerCredentials.lastUsedAt, sql`now() - make_interval(secs => ${LAST_USED_GRANULARITY_MS / 1000})`),
        ),
      ),
    );
}

import { SERVICE_TOKEN_HEADER, TASK_TOKEN_HEADER, WORKER_TOKEN_HEADER } from "@ops/contract";
import { type Db, memberships, readSetting, sessions, taskTokens, users } from "@ops/db";
import { and, eq, gt, isNull } from "drizzle-orm";
import type { WorkerTokenCache } from "./worker-token.ts";
import { OpsError } from "../errors.ts";
import { hashToken, tokenMatchesHash } from "./crypto.ts";
import type { Principal, Role } from "./principal.ts";

const SERVICE_HASH_TTL_MS = 3000;

/**
 * Checks X-OPS-Service-Token against ops_settings.service_api_token. The stored
 * hash is cached for a few seconds so the claim hot path does not pay a query
 * for it; a rotation through this instance takes effect at once, elsewhere
 * within the TTL.
 */
export class ServiceTokenVerifier {
  private cached: { hash: string | undefined; at: number } | undefined;
  /** The read in flight: requests arriving meanwhile share it (at 5,000 launchers, each expiry was a burst of reads). */
  private reading: Promise<{ hash: string | undefined; at: number }> | undefined;
  constructor(private readonly db: Db) {}

  invalidate(): void {
    this.cached = undefined;
    this.reading = undefined;
  }

  async verify(token: string): Promise<boolean> {
    let cached = this.cached;
    if (!cached || Date.now() - cached.at > SERVICE_HASH_TTL_MS) {
      if (!this.reading) {
        const read = readSetting(this.db, "service_api_token").then(
          (hash) => {
            const fresh = { hash, at: Date.now() };
            if (this.reading === read) {
              this.cached = fresh;
              this.reading = undefined;
            }
            return fresh;
          },
          (err: unknown) => {
            if (this.reading === read) this.reading = undefined;
            throw err;
          },
        );
        this.reading = read;
      }
      cached = await this.reading;
    }
    const hash = cached.hash;
    return hash !== undefined && tokenMatchesHash(token, hash);
  }
}

type Headers = Record<string, string | string[] | undefined>;
const header = (headers: Headers, name: string) => {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
};

/** Works out who is calling; a presented credential that is wrong is a 401, never anonymous. */
export async function authenticate(
  db: Db,
  verifier: ServiceTokenVerifier,
  workerTokens: WorkerTokenCache,
  headers: Headers,
  sessionCookie: string | undefined,
): Promise<Principal> {
  const serviceToken = header(headers, SERVICE_TOKEN_HEADER);
  if (serviceToken !== undefined) {
    if (await verifier.verify(serviceToken)) return { kind: "service" };
    throw new OpsError("UNAUTHORIZED", "invalid service token");
  }
  const workerToken = header(headers, WORKER_TOKEN_HEADER);
  if (workerToken !== undefined) {
    const principal = await workerTokens.principal(workerToken);
    if (!principal) throw new OpsError("UNAUTHORIZED", "invalid or revoked worker token");
    return principal;
  }
  const taskToken = header(headers, TASK_TOKEN_HEADER);
  if (taskToken !== undefined) {
    const [row] = await db
      .select({ taskId: taskTokens.taskId, attempt: taskTokens.claimAttempt })
      .from(taskTokens)
      .where(and(eq(taskTokens.tokenHash, hashToken(taskToken)), isNull(taskTokens.revokedAt)));
    if (!row) throw new OpsError("UNAUTHORIZED", "invalid or expired task token");
    return { kind: "agent", taskId: row.taskId, attempt: row.attempt };
  }
  if (sessionCookie) return (await sessionPrincipal(db, sessionCookie)) ?? { kind: "anonymous" };
  return { kind: "anonymous" };
}

async function sessionPrincipal(db: Db, cookie: string): Promise<Principal | undefined> {
  const idHash = hashToken(cookie);
  const [row] = await db
    .select({
      userId: users.id,
      username: users.username,
      isInstanceAdmin: users.isInstanceAdmin,
      passwordChangedAt: users.passwordChangedAt,
      createdAt: sessions.createdAt,
    })
    .from(sessions)
    .innerJoin(users, eq(users.id, sessions.userId))
    .where(and(eq(sessions.idHash, idHash), gt(sessions.expiresAt, new Date()), isNull(users.disabledAt)));
  // A password rotation revokes every session opened before it.
  if (!row || row.createdAt < row.passwordChangedAt) return undefined;
  const roles = await db
    .select({ workspaceId: memberships.workspaceId, role: memberships.role })
    .from(memberships)
    .where(eq(memberships.userId, row.userId));
  return {
    kind: "user",
    userId: row.userId,
    username: row.username,
    isInstanceAdmin: row.isInstanceAdmin,
    roles: new Map(roles.map((r) => [r.workspaceId, r.role as Role])),
    sessionIdHash: idHash,
  };
}

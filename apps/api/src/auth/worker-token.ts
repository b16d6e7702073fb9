import { WORKER_TOKEN_PREFIX } from "@ops/contract";
import { type Db, type DbOrTx, type OpsDatabase, workerCredentials } from "@ops/db";
import { and, eq, isNull, lt, or, sql } from "drizzle-orm";
import type { Logger } from "pino";
import { generateToken, hashToken } from "./crypto.ts";
import type { Principal } from "./principal.ts";

/** last_used_at is refreshed at most this often per token, so authenticating costs no write per request. */
export const LAST_USED_GRANULARITY_MS = 60_000;

/** NOTIFYed (payload: the credential id) in the transaction that revokes a worker token or changes its worker id or pool. */
export const WORKER_CREDENTIALS_CHANNEL = "ops_worker_credentials_changed";

/** A cached credential is used at most this long after the database last confirmed it (the backstop behind NOTIFY). */
export const WORKER_TOKEN_TTL_MS = 60_000;
/** How often the instance re-reads, in one statement, the credentials it has cached and used since. */
export const WORKER_TOKEN_REVALIDATE_MS = 30_000;
/** Past this many cached credentials, new ones are not cached (memory bound; a fleet is thousands). */
const MAX_CACHED = 50_000;

/** A fresh worker token: the prefix, then 32 random bytes (43 url-safe characters). */
export const generateWorkerToken = () => `${WORKER_TOKEN_PREFIX}${generateToken(32)}`;

type WorkerPrincipal = Extract<Principal, { kind: "worker" }>;

interface CredentialRow {
  id: number;
  workerId: string;
  label: string;
  workspaceIds: number[] | null;
  lastUsedAt: Date | null;
}

/** What a request needs of its worker credential, read alike on a cache miss and on revalidation. */
const CREDENTIAL_COLUMNS = {
  id: workerCredentials.id,
  workerId: workerCredentials.workerId,
  label: workerCredentials.label,
  workspaceIds: workerCredentials.workspaceIds,
  lastUsedAt: workerCredentials.lastUsedAt,
};

/** The active (not revoked) credential of a token hash: one indexed read. */
async function readCredential(db: Db, tokenHash: string): Promise<CredentialRow | undefined> {
  const [row] = await db
    .select(CREDENTIAL_COLUMNS)
    .from(workerCredentials)
    .where(and(eq(workerCredentials.tokenHash, tokenHash), isNull(workerCredentials.revokedAt)));
  return row;
}

const toPrincipal = (row: CredentialRow): WorkerPrincipal => ({
  kind: "worker",
  credentialId: row.id,
  workerId: row.workerId,
  label: row.label,
  workspaceIds: row.workspaceIds,
});

const stale = (lastUsedAt: Date | null, now = Date.now()) => !lastUsedAt || now - lastUsedAt.getTime() > LAST_USED_GRANULARITY_MS;

/**
 * The principal of a presented worker token, read from the database, or
 * undefined when it is unknown or revoked. The uncached path: used when the
 * instance has no LISTEN (see WorkerTokenCache).
 */
export async function workerPrincipal(db: Db, token: string): Promise<WorkerPrincipal | undefined> {
  if (!token.startsWith(WORKER_TOKEN_PREFIX)) return undefined;
  const row = await readCredential(db, hashToken(token));
  if (!row) return undefined;
  if (stale(row.lastUsedAt)) await touchLastUsed(db, [row.id]);
  return toPrincipal(row);
}

/** `id = any('{…}'::int[])`: one parameter however many ids (an IN list of thousands would be thousands of parameters). */
const anyId = (ids: readonly number[]) => sql`${workerCredentials.id} = any(${`{${ids.map((id) => Math.trunc(id)).join(",")}}`}::int[])`;

/** Guarded in SQL too, so instances racing on the same token write once a minute. */
async function touchLastUsed(db: DbOrTx, ids: number[]): Promise<void> {
  await db
    .update(workerCredentials)
    .set({ lastUsedAt: sql`now()` })
    .where(
      and(
        anyId(ids),
        or(
          isNull(workerCredentials.lastUsedAt),
          lt(workerCredentials.lastUsedAt, sql`now() - make_interval(secs => ${LAST_USED_GRANULARITY_MS / 1000})`),
        ),
      ),
    );
}

/** Tells every instance (at commit) that this credential changed: their cached copies are dropped. */
export async function notifyCredentialChanged(tx: DbOrTx, credentialId: number): Promise<void> {
  await tx.execute(sql`select pg_notify(${WORKER_CREDENTIALS_CHANNEL}, ${String(credentialId)})`);
}

interface Entry {
  row: CredentialRow;
  /** When the database last confirmed this credential active (Date.now()). */
  confirmedAt: number;
  /** Used since the last revalidation: an entry nobody uses is dropped rather than re-read. */
  used: boolean;
}

/**
 * Worker-token authentication for the instance's requests. Reading the
 * credential on every request cost one statement per request (a fleet of
 * 5,000 launchers: hundreds a second, plus a last_used_at write per token per
 * minute), so positive lookups are kept in memory — only while the instance's
 * LISTEN on WORKER_CREDENTIALS_CHANNEL is up:
 *
 * - A revoke (or any change of a credential's worker id or pool) NOTIFYs in
 *   its own transaction; every instance drops the entry when the NOTIFY
 *   arrives, which is at the revoke's commit, before its HTTP answer has gone
 *   back; the revoking instance drops it synchronously as well (`forget`).
 * - When the LISTEN connection drops, notifications are lost: from the drop
 *   (onClose) until it is back (onListen), the cache is cleared and bypassed —
 *   every request reads the database, as without a cache.
 * - Backstop: an entry is used at most WORKER_TOKEN_TTL_MS after the database
 *   last confirmed it. The entries used since are re-read together in ONE
 *   statement every WORKER_TOKEN_REVALIDATE_MS (revoked ones dropped), so a
 *   busy token is never re-read alone.
 * - Unknown or revoked tokens are never cached: a 401 reads the database each time.
 * - last_used_at: a use whose copy says more than a minute old is queued and
 *   written with the others in ONE statement every `flushMs` (like heartbeats;
 *   0: at once). The first use on this instance after a (re)load writes at once,
 *   as before: a miss is a database read anyway.
 *
 * Every invalidation bumps `version`, so a read that was in flight across it
 * is served to its request (it was concurrent with the change) but not cached.
 */
export class WorkerTokenCache {
  private readonly entries = new Map<string, Entry>();
  /** Credential id → token hash, for NOTIFY payloads. */
  private readonly hashes = new Map<number, string>();
  private readonly loading = new Map<string, Promise<CredentialRow | undefined>>();
  private readonly pendingTouch = new Set<number>();
  private version = 0;
  private listening = false;
  private unlisten: (() => Promise<void>) | undefined;
  private flushTimer: NodeJS.Timeout | undefined;
  private revalidateTimer: NodeJS.Timeout | undefined;
  private readonly invalidationWaiters = new Set<{ id: number; resolve: () => void }>();
  /** Database reads of a credential by token hash (cache misses and bypasses); for tests and metrics. */
  lookups = 0;
  /** Times the LISTEN connection was seen closing. */
  listenDrops = 0;

  constructor(
    private readonly db: Db,
    private readonly database: OpsDatabase | undefined,
    private readonly log: Logger,
    private readonly flushMs: number,
  ) {}

  async start(): Promise<void> {
    if (this.database) {
      try {
        this.unlisten = await this.database.listen(
          WORKER_CREDENTIALS_CHANNEL,
          (payload) => this.onNotify(payload),
          () => this.listenUp(),
          () => this.listenDown(),
        );
        this.listenUp();
      } catch (err) {
        this.log.warn({ err }, "LISTEN unavailable; worker tokens are read from the database on every request");
      }
    }
    if (this.flushMs > 0) {
      this.flushTimer = setInterval(() => void this.flush().catch((err: unknown) => this.log.warn({ err }, "last_used_at flush failed")), this.flushMs);
      this.flushTimer.unref();
    }
    this.revalidateTimer = setInterval(
      () => void this.revalidate().catch((err: unknown) => this.log.warn({ err }, "worker token revalidation failed")),
      WORKER_TOKEN_REVALIDATE_MS,
    );
    this.revalidateTimer.unref();
  }

  async stop(): Promise<void> {
    this.listenDown();
    clearInterval(this.flushTimer);
    clearInterval(this.revalidateTimer);
    await this.unlisten?.().catch(() => {});
    await this.flush();
  }

  /** Whether cached credentials are in use (the LISTEN is up). */
  get active(): boolean {
    return this.listening;
  }

  get size(): number {
    return this.entries.size;
  }

  /** The principal of a presented worker token, or undefined when it is unknown or revoked. */
  async principal(token: string): Promise<WorkerPrincipal | undefined> {
    if (!token.startsWith(WORKER_TOKEN_PREFIX)) return undefined;
    if (!this.listening) {
      this.lookups++;
      return workerPrincipal(this.db, token);
    }
    const hash = hashToken(token);
    const entry = this.entries.get(hash);
    const now = Date.now();
    if (entry && now - entry.confirmedAt <= WORKER_TOKEN_TTL_MS) {
      entry.used = true;
      if (stale(entry.row.lastUsedAt, now)) {
        entry.row.lastUsedAt = new Date(now);
        if (this.flushMs > 0) this.pendingTouch.add(entry.row.id);
        else await touchLastUsed(this.db, [entry.row.id]);
      }
      return toPrincipal(entry.row);
    }
    const row = await this.load(hash);
    if (!row) return undefined;
    return toPrincipal(row);
  }

  /** One read per token hash at a time; kept only if nothing was invalidated meanwhile. */
  private load(hash: string): Promise<CredentialRow | undefined> {
    const inFlight = this.loading.get(hash);
    if (inFlight) return inFlight;
    const version = this.version;
    this.lookups++;
    const read = this.readAndKeep(hash, version);
    const settled = () => {
      if (this.loading.get(hash) === read) this.loading.delete(hash);
    };
    read.then(settled, settled);
    this.loading.set(hash, read);
    return read;
  }

  private async readAndKeep(hash: string, version: number): Promise<CredentialRow | undefined> {
    const readAt = Date.now();
    const row = await readCredential(this.db, hash);
    if (row && stale(row.lastUsedAt)) {
      await touchLastUsed(this.db, [row.id]);
      row.lastUsedAt = new Date();
    }
    if (row && this.listening && version === this.version && this.entries.size < MAX_CACHED) {
      this.entries.set(hash, { row: { ...row }, confirmedAt: readAt, used: true });
      this.hashes.set(row.id, hash);
    }
    return row;
  }

  /** A NOTIFY names the credential that changed; one that names none clears everything. */
  private onNotify(payload: string): void {
    const id = Number(payload);
    if (Number.isSafeInteger(id)) this.forget(id);
    else this.clear();
  }

  /** Drops a credential's cached copy (its NOTIFY arrived, or this instance revoked it). */
  forget(credentialId: number): void {
    this.version++;
    this.loading.clear();
    const hash = this.hashes.get(credentialId);
    if (hash !== undefined) this.entries.delete(hash);
    this.hashes.delete(credentialId);
    for (const w of this.invalidationWaiters) {
      if (w.id === credentialId) {
        this.invalidationWaiters.delete(w);
        w.resolve();
      }
    }
  }

  /**
   * Resolves when this instance has dropped the credential's copy (its NOTIFY
   * arrived or `forget` was called). Tests use it to wait for the invalidation
   * itself instead of sleeping.
   */
  invalidated(credentialId: number): Promise<void> {
    return new Promise((resolve) => this.invalidationWaiters.add({ id: credentialId, resolve }));
  }

  private clear(): void {
    this.version++;
    this.loading.clear();
    this.entries.clear();
    this.hashes.clear();
  }

  /** The LISTEN is (again) active: notifications sent while it was down are lost, so start empty. */
  private listenUp(): void {
    this.clear();
    this.listening = true;
  }

  private listenDown(): void {
    if (this.listening) this.listenDrops++;
    this.listening = false;
    this.clear();
  }

  /** Writes the queued last_used_at refreshes in one statement. */
  async flush(): Promise<void> {
    if (this.pendingTouch.size === 0) return;
    const ids = [...this.pendingTouch];
    this.pendingTouch.clear();
    try {
      await touchLastUsed(this.db, ids);
    } catch (err) {
      // Kept for the next flush.
      for (const id of ids) this.pendingTouch.add(id);
      throw err;
    }
  }

  /** Re-reads, in one statement, the cached credentials used since the last pass; drops the others. */
  async revalidate(): Promise<void> {
    if (!this.listening || this.entries.size === 0) return;
    const used = [...this.entries.entries()].filter(([, e]) => e.used);
    for (const [hash, e] of this.entries) {
      if (!e.used) {
        this.entries.delete(hash);
        this.hashes.delete(e.row.id);
      }
    }
    if (used.length === 0) return;
    const version = this.version;
    const startedAt = Date.now();
    const rows = await this.db
      .select({ ...CREDENTIAL_COLUMNS, tokenHash: workerCredentials.tokenHash })
      .from(workerCredentials)
      .where(and(anyId(used.map(([, e]) => e.row.id)), isNull(workerCredentials.revokedAt)));
    // Something was invalidated while this ran: the entries it concerned are gone; leave the rest to the next pass.
    if (version !== this.version) return;
    const active = new Map(rows.map((r) => [r.tokenHash, r]));
    for (const [hash, e] of used) {
      const row = active.get(hash);
      if (!row || row.id !== e.row.id) {
        this.entries.delete(hash);
        this.hashes.delete(e.row.id);
        continue;
      }
      // The database's last use, unless this instance's own refresh is still queued.
      const lastUsedAt = this.pendingTouch.has(row.id) ? e.row.lastUsedAt : row.lastUsedAt;
      e.row = { id: row.id, workerId: row.workerId, label: row.label, workspaceIds: row.workspaceIds, lastUsedAt };
      e.confirmedAt = startedAt;
      e.used = false;
    }
  }
}

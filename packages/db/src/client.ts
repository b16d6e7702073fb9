import { mkdirSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { PGlite } from "@electric-sql/pglite";
import type { PgDatabase, PgQueryResultHKT } from "drizzle-orm/pg-core";
import { drizzle as drizzlePglite } from "drizzle-orm/pglite";
import { migrate as migratePglite } from "drizzle-orm/pglite/migrator";
import { drizzle as drizzlePostgres } from "drizzle-orm/postgres-js";
import { migrate as migratePostgres } from "drizzle-orm/postgres-js/migrator";
import postgres from "postgres";
import * as schema from "./schema.ts";

export type Schema = typeof schema;
/** The query handle both drivers share; domain code is written against this. */
export type Db = PgDatabase<PgQueryResultHKT, Schema>;
/** A transaction or the database itself: everything both accept. */
export type DbOrTx = Pick<Db, "select" | "insert" | "update" | "delete" | "execute" | "query">;

export interface OpsDatabase {
  db: Db;
  kind: "postgres" | "pglite";
  /**
   * Subscribes to a NOTIFY channel; resolves once the LISTEN is active.
   * `onListen` runs each time the LISTEN is (re)established — after a reconnect
   * notifications sent meanwhile are lost, so a cache reloads there.
   * `onClose` runs each time the LISTEN connection is lost (PostgreSQL only):
   * from then until the next `onListen`, notifications are not delivered, so a
   * cache that relies on them must not be trusted in between.
   */
  listen(channel: string, onPayload: (payload: string) => void, onListen?: () => void, onClose?: () => void): Promise<() => Promise<void>>;
  migrate(): Promise<void>;
  close(): Promise<void>;
}

export interface CreateDbOptions {
  /** PostgreSQL connection string; when absent an embedded PGlite is used. */
  databaseUrl?: string | undefined;
  /** Folder for the embedded database; "memory://" keeps it in memory. */
  dataDir?: string | undefined;
  /** Pool size for PostgreSQL. */
  maxConnections?: number | undefined;
}

export const migrationsFolder = fileURLToPath(new URL("../migrations", import.meta.url));

export async function createDb(options: CreateDbOptions = {}): Promise<OpsDatabase> {
  if (options.databaseUrl) return openPostgres(options.databaseUrl, options.maxConnections ?? 10);
  return openPglite(options.dataDir ?? "./.ops-data");
}

function openPostgres(url: string, max: number): OpsDatabase {
  const client = postgres(url, {
    max,
    onnotice: () => {},
    // Fail fast while the server is down instead of queueing requests forever.
    connect_timeout: 5,
    idle_timeout: 60,
  });
  const db = drizzlePostgres(client, { schema, casing: "snake_case" }) as unknown as Db;
  return {
    db,
    kind: "postgres",
    async listen(channel, onPayload, onListen, onClose) {
      const sub = await client.listen(channel, onPayload, onListen);
      if (!onClose) return () => sub.unlisten();
      closeWatchers(client).add(onClose);
      return async () => {
        closeWatchers(client).delete(onClose);
        await sub.unlisten();
      };
    },
    migrate: () => migratePostgres(db as never, { migrationsFolder }),
    close: () => client.end({ timeout: 5 }),
  };
}

type ListenSql = { options: { onclose?: (id: number) => void } };
const watchers = new WeakMap<object, Set<() => void>>();

/**
 * The callbacks told when postgres.js's LISTEN connection closes. postgres.js
 * keeps that connection (`sql.listen.sql`, created by the first listen) to
 * itself and re-LISTENs after a close, calling each `onlisten` again, but
 * says nothing at the close; its own `onclose` option is read at every close,
 * so it is wrapped here once (postgres 3.4.x; the fault tests cover it).
 */
function closeWatchers(client: postgres.Sql): Set<() => void> {
  let set = watchers.get(client);
  if (set) return set;
  const listenSql = (client.listen as unknown as { sql?: ListenSql }).sql;
  if (!listenSql?.options) throw new Error("postgres.js LISTEN connection not found: cannot watch it close");
  const own = listenSql.options.onclose;
  const fresh = new Set<() => void>();
  listenSql.options.onclose = (id) => {
    for (const fn of fresh) fn();
    own?.(id);
  };
  watchers.set(client, fresh);
  set = fresh;
  return set;
}

async function openPglite(dataDir: string): Promise<OpsDatabase> {
  if (!dataDir.startsWith("memory://")) mkdirSync(dataDir, { recursive: true });
  const client = await PGlite.create(dataDir);
  const db = drizzlePglite(client, { schema, casing: "snake_case" }) as unknown as Db;
  return {
    db,
    kind: "pglite",
    // In-process: the LISTEN never drops, so onClose is never called.
    async listen(channel, onPayload, onListen) {
      const unsubscribe = await client.listen(channel, onPayload);
      onListen?.();
      return () => unsubscribe();
    },
    migrate: () => migratePglite(db as never, { migrationsFolder }),
    close: () => client.close(),
  };
}

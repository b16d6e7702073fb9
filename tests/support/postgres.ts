import { randomBytes } from "node:crypto";
import postgres from "postgres";

/**
 * The PostgreSQL server the suites run against. CI starts it (.ci/run); a
 * missing server is a failure, never a silent skip.
 */
export const ADMIN_DATABASE_URL = process.env.OPS_TEST_DATABASE_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";

export interface FreshDatabase {
  url: string;
  name: string;
  drop(): Promise<void>;
}

/** A new, empty database on the test server: one per test file. */
export async function createFreshDatabase(prefix = "ops_test"): Promise<FreshDatabase> {
  const admin = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {}, connect_timeout: 5 });
  const name = `${prefix}_${Date.now().toString(36)}_${randomBytes(3).toString("hex")}`;
  try {
    await admin.unsafe(`create database ${name}`);
  } catch (error) {
    await admin.end();
    throw new Error(
      `PostgreSQL is required for this suite and is not reachable at ${ADMIN_DATABASE_URL} (${(error as Error).message}). Start it (see .ci/run) or set OPS_TEST_DATABASE_URL.`,
    );
  }
  await admin.end();
  const url = new URL(ADMIN_DATABASE_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    name,
    async drop() {
      const a = postgres(ADMIN_DATABASE_URL, { max: 1, onnotice: () => {} });
      await a.unsafe(`drop database if exists ${name} with (force)`).catch(() => {});
      await a.end();
    },
  };
}

import { execFileSync } from "node:child_process";
import { chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { freePort } from "./spawn-api.ts";

/**
 * A throwaway PostgreSQL cluster of the machine's server binaries, for tests
 * that stop, restart or kill the database: the shared server other test files
 * use is never disturbed. Runs as the `postgres` user when started as root.
 */
export interface PrivatePostgres {
  url: string;
  port: number;
  stop(mode?: "fast" | "immediate"): void;
  start(): void;
  /** pg_terminate_backend on every connection to the test database. */
  terminateBackends(): Promise<number>;
  destroy(): void;
}

function binDir(): string {
  const root = "/usr/lib/postgresql";
  if (!existsSync(root)) throw new Error("PostgreSQL server binaries not found under /usr/lib/postgresql: install the postgresql package (.ci/run does)");
  const version = readdirSync(root).sort((a, b) => Number(b) - Number(a))[0];
  return join(root, version!, "bin");
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const bin = binDir();
  const dir = mkdtempSync(join(tmpdir(), "ops-pg-"));
  const port = await freePort();
  const asRoot = process.getuid?.() === 0;
  if (asRoot) chownSync(dir, Number(execFileSync("id", ["-u", "postgres"]).toString()), Number(execFileSync("id", ["-g", "postgres"]).toString()));
  const run = (cmd: string, args: string[]) => {
    if (asRoot) execFileSync("su", ["postgres", "-s", "/bin/sh", "-c", [join(bin, cmd), ...args.map((a) => `'${a}'`)].join(" ")], { stdio: "pipe" });
    else execFileSync(join(bin, cmd), args, { stdio: "pipe" });
  };
  const data = join(dir, "data");
  run("initdb", ["-D", data, "-A", "trust", "-U", "postgres"]);
  const start = () => run("pg_ctl", ["-D", data, "-o", `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c max_connections=200`, "-l", join(dir, "log"), "-w", "start"]);
  start();
  const admin = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const sql = postgres(admin, { max: 1, onnotice: () => {} });
  await sql.unsafe("create database ops");
  await sql.end();
  return {
    url: `postgres://postgres@127.0.0.1:${port}/ops`,
    port,
    stop: (mode = "fast") => run("pg_ctl", ["-D", data, "-m", mode, "-w", "stop"]),
    start,
    async terminateBackends() {
      const a = postgres(admin, { max: 1, onnotice: () => {} });
      const rows = await a`select pg_terminate_backend(pid) from pg_stat_activity where datname = 'ops' and pid <> pg_backend_pid()`;
      await a.end();
      return rows.length;
    },
    destroy() {
      try {
        run("pg_ctl", ["-D", data, "-m", "immediate", "-w", "stop"]);
      } catch {
        // already stopped
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

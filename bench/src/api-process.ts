import { type ChildProcess, spawn } from "node:child_process";
import { createServer } from "node:net";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

// The bench's own way to run the real API and give it a database (the test
// suites have theirs in tests/support; the bench does not depend on them).

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));

async function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolvePort(address.port) : reject(new Error("no port"))));
    });
  });
}

export interface SpawnedApi {
  baseUrl: string;
  apiBase: string;
  serviceToken: string;
  /** The API process (CPU and RSS are read from /proc/<pid>). */
  pid: number;
  output(): string;
  stop(signal?: NodeJS.Signals): Promise<void>;
}

/**
 * Runs the real API (`apps/api/src/main.ts` under `node --import tsx`, so a
 * kill reaches the server itself) on a PostgreSQL database and waits until it
 * answers.
 */
export async function spawnApi(options: {
  databaseUrl: string;
  env?: Record<string, string>;
  nodeArgs?: string[];
  /** A module loaded after tsx (`--import`), e.g. the fleet scenario's `api-preload.ts`. */
  preload?: string;
}): Promise<SpawnedApi> {
  const port = await freePort();
  const serviceToken = `bench-service-token-${port}-0123456789abcdef`;
  let out = "";
  const child: ChildProcess = spawn(process.execPath, [
      ...(options.nodeArgs ?? []),
      "--import",
      "tsx",
      ...(options.preload ? ["--import", options.preload] : []),
      join(REPO_ROOT, "apps/api/src/main.ts"),
    ], {
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(port),
      DATABASE_URL: options.databaseUrl,
      OPS_SERVICE_TOKEN: serviceToken,
      OPS_ADMIN_USER: "admin",
      OPS_ADMIN_PASSWORD: "admin-password-for-bench",
      ...options.env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const record = (d: Buffer) => {
    out += d;
  };
  child.stdout!.on("data", record);
  child.stderr!.on("data", record);
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}:\n${out}`);
    try {
      if ((await fetch(`http://127.0.0.1:${port}/api/openapi.json`)).ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`API did not start within 60s:\n${out}`);
    await new Promise((r) => setTimeout(r, 150));
  }
  return {
    baseUrl: `http://127.0.0.1:${port}`,
    apiBase: `http://127.0.0.1:${port}/api`,
    serviceToken,
    pid: child.pid ?? 0,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
  };
}

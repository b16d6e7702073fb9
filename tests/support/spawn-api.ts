import { type ChildProcess, spawn } from "node:child_process";
import { appendFileSync, mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { testLogFile } from "./log-dir.ts";

export const REPO_ROOT = resolve(fileURLToPath(new URL("../..", import.meta.url)));
/**
 * Node flags that load TypeScript through tsx in the same process (tsx's CLI
 * would fork a child, and a SIGKILL would then hit only the wrapper).
 */
export const TSX_NODE_ARGS = ["--import", "tsx"];

export async function freePort(): Promise<number> {
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
  port: number;
  serviceToken: string;
  adminUser: string;
  adminPassword: string;
  process: ChildProcess;
  output(): string;
  /** SIGKILL, or SIGTERM and wait. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Start again on the same port and database (after a kill). */
  restart(): Promise<void>;
}

export interface SpawnApiOptions {
  /** PostgreSQL URL; PGlite in a temporary folder when absent. */
  databaseUrl?: string;
  env?: Record<string, string>;
  port?: number;
}

/**
 * Runs the real API (`tsx apps/api/src/main.ts`) as a child process and waits
 * until it answers. For suites that need real processes: launcher, browser, faults.
 */
export async function spawnApi(options: SpawnApiOptions = {}): Promise<SpawnedApi> {
  const port = options.port ?? (await freePort());
  const dataDir = options.databaseUrl ? undefined : mkdtempSync(join(tmpdir(), "ops-api-"));
  const serviceToken = `test-service-token-${port}-0123456789abcdef`;
  const adminUser = "admin";
  const adminPassword = "admin-password-for-tests";
  let out = "";
  let child!: ChildProcess;
  // Everything the API prints is kept for the secrets scan.
  const logFile = testLogFile("api-process");
  const record = (d: Buffer) => {
    out += d;
    appendFileSync(logFile, d);
  };
  const start = async () => {
    child = spawn(process.execPath, [...TSX_NODE_ARGS, join(REPO_ROOT, "apps/api/src/main.ts")], {
      cwd: REPO_ROOT,
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: String(port),
        OPS_SERVICE_TOKEN: serviceToken,
        OPS_ADMIN_USER: adminUser,
        OPS_ADMIN_PASSWORD: adminPassword,
        LOG_LEVEL: "debug",
        ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : { OPS_DATA_DIR: dataDir! }),
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    child.stdout!.on("data", record);
    child.stderr!.on("data", record);
    const deadline = Date.now() + 60_000;
    for (;;) {
      if (child.exitCode !== null) throw new Error(`API exited with ${child.exitCode}:\n${out}`);
      try {
        const res = await fetch(`http://127.0.0.1:${port}/api/openapi.json`);
        if (res.ok) break;
      } catch {
        // not listening yet
      }
      if (Date.now() > deadline) throw new Error(`API did not start within 60s:\n${out}`);
      await new Promise((r) => setTimeout(r, 150));
    }
  };
  await start();
  const api: SpawnedApi = {
    baseUrl: `http://127.0.0.1:${port}`,
    apiBase: `http://127.0.0.1:${port}/api`,
    port,
    serviceToken,
    adminUser,
    adminPassword,
    get process() {
      return child;
    },
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((r) => child.once("exit", r));
      child.kill(signal);
      await exited;
    },
    async restart() {
      await api.stop("SIGKILL");
      await start();
    },
  };
  const originalStop = api.stop;
  api.stop = async (signal) => {
    await originalStop(signal);
    if (dataDir && signal !== "SIGKILL") rmSync(dataDir, { recursive: true, force: true });
  };
  return api;
}

/** A tiny REST client for tests and scripts: JSON in, JSON out, status kept. */
export function restClient(apiBase: string, headers: Record<string, string>) {
  return async function call<T = any>(method: string, path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${apiBase}${path}`, {
      method,
      headers: { ...headers, ...(body !== undefined ? { "content-type": "application/json" } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
  };
}

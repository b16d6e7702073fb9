import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFreshDatabase, type FreshDatabase } from "../support/postgres.ts";
import { freePort, REPO_ROOT, type SpawnedApi, spawnApi } from "../support/spawn-api.ts";

// Issue 13's perimeter with a real nginx in front of the real API: the server
// block shipped in docs/nginx.md, read from the doc itself, with TRUST_PROXY=127.0.0.1.
// The test's client connects from 127.0.0.2 (any 127/8 address is loopback on
// Linux), so "the real client" and "the proxy" (127.0.0.1) are different addresses.

const CLIENT_ADDRESS = "127.0.0.2";
const FORGED = "203.0.113.66";

function requireTool(tool: string, pkg = tool) {
  const found = spawnSync("sh", ["-c", `command -v ${tool} || test -x /usr/sbin/${tool}`], { encoding: "utf8" });
  if (found.status !== 0) throw new Error(`${tool} is required for this suite and is not installed (apt-get install -y ${pkg}; scripts/test-setup.sh installs it)`);
}

/** The ```nginx block of docs/nginx.md, as an operator would copy it. */
function docServerBlock(): string {
  const doc = readFileSync(join(REPO_ROOT, "docs/nginx.md"), "utf8");
  const blocks = [...doc.matchAll(/```nginx\n([\s\S]*?)```/g)].map((m) => m[1]!);
  expect(blocks).toHaveLength(1);
  return blocks[0]!;
}

/** Replaces `from` exactly once: if the doc's block changes shape, the test says so instead of testing something else. */
function replaceOnce(text: string, from: string, to: string): string {
  expect(text.split(from).length - 1, `docs/nginx.md's block should contain "${from}" once`).toBe(1);
  return text.replace(from, to);
}

interface RunningNginx {
  port: number;
  stop(): Promise<void>;
  output(): string;
}

async function startNginx(apiPort: number, xffLine: "append" | "overwrite"): Promise<RunningNginx> {
  const dir = mkdtempSync(join(tmpdir(), "ops-nginx-"));
  // Started as root, nginx's workers run as nobody: they must reach the temp folders (request bodies) below.
  chmodSync(dir, 0o755);
  mkdirSync(join(dir, "logs"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  const made = spawnSync("openssl", ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-days", "1", "-keyout", key, "-out", cert], { encoding: "utf8" });
  if (made.status !== 0) throw new Error(`openssl could not make a test certificate: ${made.stderr}`);
  const port = await freePort();
  const redirectPort = await freePort();
  let block = docServerBlock();
  block = replaceOnce(block, "server 127.0.0.1:3847;", `server 127.0.0.1:${apiPort};`);
  block = replaceOnce(block, "listen 443 ssl;", `listen 127.0.0.1:${port} ssl;`);
  block = replaceOnce(block, "listen 80;", `listen 127.0.0.1:${redirectPort};`);
  block = replaceOnce(block, "/etc/ssl/certs/ops.example.com.pem", cert);
  block = replaceOnce(block, "/etc/ssl/private/ops.example.com.key", key);
  if (xffLine === "overwrite") {
    block = replaceOnce(block, "proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;", "proxy_set_header X-Forwarded-For $remote_addr;");
  }
  // What /etc/nginx/nginx.conf gives the block on Debian, with every path in the temp folder.
  const conf = join(dir, "nginx.conf");
  writeFileSync(
    conf,
    `worker_processes 1;
pid ${join(dir, "nginx.pid")};
error_log ${join(dir, "logs/error.log")} info;
events { worker_connections 256; }
http {
  access_log ${join(dir, "logs/access.log")};
  client_body_temp_path ${join(dir, "client_body")};
  proxy_temp_path ${join(dir, "proxy")};
  fastcgi_temp_path ${join(dir, "fastcgi")};
  uwsgi_temp_path ${join(dir, "uwsgi")};
  scgi_temp_path ${join(dir, "scgi")};
${block}
}
`,
  );
  const nginxBin = spawnSync("sh", ["-c", "command -v nginx || echo /usr/sbin/nginx"], { encoding: "utf8" }).stdout.trim();
  let out = "";
  const child: ChildProcess = spawn(nginxBin, ["-p", dir, "-e", join(dir, "logs/error.log"), "-c", conf, "-g", "daemon off;"], { stdio: ["ignore", "pipe", "pipe"] });
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 20_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited with ${child.exitCode}:\n${out}\n${readFileSync(join(dir, "logs/error.log"), "utf8")}`);
    try {
      const res = await viaNginx(port, "GET", "/api/openapi.json");
      if (res.status === 200) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`nginx did not answer within 20s:\n${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    output: () => `${out}${readFileSync(join(dir, "logs/error.log"), "utf8")}`,
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((r) => child.once("exit", r));
        child.kill("SIGQUIT");
        await exited;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** HTTPS through nginx from CLIENT_ADDRESS (the certificate is the test's own). */
function viaNginx(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: any }> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const req = httpsRequest(
      {
        host: "127.0.0.1",
        port,
        method,
        path,
        localAddress: CLIENT_ADDRESS,
        rejectUnauthorized: false,
        agent: false,
        headers: { ...(payload ? { "content-type": "application/json" } : {}), ...headers },
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (d: string) => (text += d));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text.startsWith("{") || text.startsWith("[") ? JSON.parse(text) : text }));
      },
    );
    req.on("error", reject);
    req.end(payload);
  });
}

let db: FreshDatabase;
let sql: postgres.Sql;
let api: SpawnedApi;

beforeAll(async () => {
  requireTool("nginx");
  requireTool("openssl");
  db = await createFreshDatabase("ops_nginx");
  sql = postgres(db.url, { max: 2, onnotice: () => {} });
  api = await spawnApi({ databaseUrl: db.url, env: { TRUST_PROXY: "127.0.0.1" } });
}, 120_000);

afterAll(async () => {
  await api?.stop();
  await sql?.end();
  await db?.drop();
});

const lastFailedSignIn = async (username: string) =>
  (await sql<{ ip: string }[]>`select ip from audit_log where action = 'auth.login_failed' and target_id = ${username} order by id desc limit 1`)[0]?.ip;

describe.each(["append", "overwrite"] as const)("nginx (docs/nginx.md, X-Forwarded-For %s) in front of the API with TRUST_PROXY=127.0.0.1", (mode) => {
  let nginx: RunningNginx;
  beforeAll(async () => {
    nginx = await startNginx(api.port, mode);
  }, 60_000);
  afterAll(async () => nginx?.stop());

  it("records the real client, not the X-Forwarded-For it sent, for a failed sign-in", async () => {
    const res = await viaNginx(nginx.port, "POST", "/api/auth/login", { username: "admin", password: `wrong-${mode}` }, { "x-forwarded-for": FORGED });
    expect(res.status).toBe(401);
    expect(await lastFailedSignIn("admin")).toBe(CLIENT_ADDRESS);
  });

  it("a locked-out client cannot get past the sign-in limit by changing X-Forwarded-For; the admin elsewhere still signs in", async () => {
    const victim = `nginx-${mode}`;
    const created = await fetch(`${api.apiBase}/users`, {
      method: "POST",
      headers: { "content-type": "application/json", cookie: await adminCookie() },
      body: JSON.stringify({ username: victim, password: "victim-password-123", role: "member", workspace_id: 1 }),
    });
    expect(created.status, await created.text()).toBe(200);
    const statuses: number[] = [];
    for (let i = 0; i < 12; i++) {
      // A new forged address every time: the API still sees 127.0.0.2.
      const res = await viaNginx(nginx.port, "POST", "/api/auth/login", { username: victim, password: `guess-${i}` }, { "x-forwarded-for": `198.51.100.${i + 1}` });
      statuses.push(res.status);
    }
    expect(statuses.filter((s) => s === 401).length).toBeLessThanOrEqual(6);
    expect(statuses.at(-1)).toBe(429);
    const right = await viaNginx(nginx.port, "POST", "/api/auth/login", { username: victim, password: "victim-password-123" }, { "x-forwarded-for": "192.0.2.200" });
    expect(right.status).toBe(429);
    const ips = await sql<{ ip: string }[]>`select distinct ip from audit_log where target_id = ${victim} and action like 'auth.login_%'`;
    expect(ips.map((r) => r.ip)).toEqual([CLIENT_ADDRESS]);
    // Another client (the API's own address here, not through the forged header) is not locked out.
    const elsewhere = await fetch(`${api.apiBase}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: victim, password: "victim-password-123" }),
    });
    expect(elsewhere.status).toBe(200);
  });

  it("marks the session cookie Secure (X-Forwarded-Proto https from the trusted proxy)", async () => {
    const res = await viaNginx(nginx.port, "POST", "/api/auth/login", { username: "admin", password: api.adminPassword });
    expect(res.status).toBe(200);
    expect(String(res.headers["set-cookie"])).toMatch(/Secure/);
  });

  it("an oversized body reaches the API and the client reads its JSON 413 through nginx", async () => {
    const res = await viaNginx(nginx.port, "POST", "/api/tasks", { title: "x".repeat(1_200_000) }, { "x-ops-service-token": api.serviceToken });
    expect(res.status).toBe(413);
    expect(res.body.error.message).toBe("the request body is larger than 1048576 bytes");
  });
});

async function adminCookie(): Promise<string> {
  const res = await fetch(`${api.apiBase}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username: api.adminUser, password: api.adminPassword }),
  });
  expect(res.status).toBe(200);
  return res.headers.get("set-cookie")!.split(";")[0]!;
}

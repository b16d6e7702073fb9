import { spawnSync } from "node:child_process";
import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { WORKER_TOKEN_HEADER } from "@ops/contract";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { REPO_ROOT, type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { createApiClient } from "../src/api.ts";
import {
  agentRecord,
  DOCTOR_MAIN,
  dispatchTask,
  ensureAgent,
  FAKE_AGENT,
  launcherDirs,
  launcherEnv,
  type Rest,
  type RunningLauncher,
  serviceRest,
  startLauncher,
  waitForTask,
} from "./harness.ts";

// The launcher's own credential, with real processes on PostgreSQL: a worker
// token read from a root-only file, never in its environment, its log or its
// agents'; a redirecting API never receives it on another port; the doctor
// says which credential is used and how it is kept.

const WORKER_ID = "cred-worker";
let db: FreshDatabase;
let api: SpawnedApi;
let rest: Rest;
let token: string;
const dirs = launcherDirs();
const tokenFile = join(dirs.root, "worker-token");
const launchers: RunningLauncher[] = [];
const servers: Server[] = [];

/** Only the worker token file: no OPS_SERVICE_TOKEN anywhere in the launcher's environment. */
const workerEnv = (extra: Record<string, string | undefined> = {}) => ({
  OPS_SERVICE_TOKEN: undefined,
  OPS_WORKER_TOKEN_FILE: tokenFile,
  OPS_WORKER_ID: WORKER_ID,
  SUPPORTED_AGENT_SLUGS: "credok",
  AGENT_CMD_CREDOK: `${FAKE_AGENT} ok {prompt}`,
  ...extra,
});

beforeAll(async () => {
  db = await createFreshDatabase("ops_launcher_cred");
  api = await spawnApi({ databaseUrl: db.url });
  rest = serviceRest(api);
  await ensureAgent(rest, "credok");
  await rest("PUT", "/settings/dispatch_enabled", { value: "true" });
  const issued = await rest("POST", "/workers/tokens", { worker_id: WORKER_ID, workspace_ids: null, label: "launcher credential test" });
  expect(issued.status, JSON.stringify(issued.body)).toBe(200);
  token = issued.body.token;
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
}, 120_000);

afterAll(async () => {
  for (const l of launchers) await l.stop();
  for (const s of servers) s.close();
  await api?.stop();
  await db?.drop();
  rmSync(dirs.root, { recursive: true, force: true });
});

describe("a launcher with a worker token file", () => {
  it("claims and finishes a task; the token is in neither its /proc environ, its log, nor its agent's environment", async () => {
    const launcher = await startLauncher(api, dirs, workerEnv());
    launchers.push(launcher);
    const environ = readFileSync(`/proc/${launcher.process.pid}/environ`, "utf8").split("\0");
    expect(environ).toContain(`OPS_WORKER_TOKEN_FILE=${tokenFile}`);
    expect(environ.filter((e) => /^OPS_(SERVICE|WORKER)_TOKEN=/.test(e))).toEqual([]);
    expect(environ.join("\n")).not.toContain(token);

    const id = await dispatchTask(rest, { title: "worker token run", agent_slug: "credok" });
    const task = await waitForTask(rest, id, (t) => t.status === "review", "review");
    expect(task.dispatch_output.worker_id).toBe(WORKER_ID);
    const record = await agentRecord(dirs, id);
    expect(record.env).toMatchObject({ has_task_token: true, has_service_token: false, has_worker_token: false, knows_worker_token_file: false });

    // The API saw a worker token: health lists the worker with its credential and no service-token problem for it.
    const health = (await rest("GET", "/dispatch/health")).body;
    expect(health.workers.find((w: { worker_id: string }) => w.worker_id === WORKER_ID)).toMatchObject({ credential: "worker_token" });
    expect(JSON.stringify(health.problems)).not.toContain(WORKER_ID);

    expect(launcher.output()).toContain("authenticating with a worker token");
    const workerLog = readFileSync(dirs.workerLog, "utf8");
    expect(workerLog).toContain(`OPS_WORKER_TOKEN_FILE ${tokenFile}`);
    expect(`${workerLog}${launcher.output()}`).not.toContain(token);
    await launcher.stop();
  });

  it("as the systemd unit runs it: the token from $CREDENTIALS_DIRECTORY/ops-worker-token, preferred to OPS_WORKER_TOKEN_FILE", async () => {
    const unitDirs = launcherDirs();
    const credentials = join(unitDirs.root, "credentials");
    mkdirSync(credentials, { mode: 0o500 });
    writeFileSync(join(credentials, "ops-worker-token"), token, { mode: 0o400 });
    // The env file's OPS_WORKER_TOKEN_FILE names a file the unit hides (InaccessiblePaths=): never read.
    const launcher = await startLauncher(api, unitDirs, workerEnv({ CREDENTIALS_DIRECTORY: credentials, OPS_WORKER_TOKEN_FILE: "/etc/ops-dispatch/hidden-by-the-unit" }));
    launchers.push(launcher);
    expect(launcher.output()).toContain('"credential":"systemd credential ops-worker-token"');
    const environ = readFileSync(`/proc/${launcher.process.pid}/environ`, "utf8");
    expect(environ).not.toContain(token);
    const id = await dispatchTask(rest, { title: "systemd credential run", agent_slug: "credok" });
    await waitForTask(rest, id, (t) => t.status === "review", "review");
    expect((await agentRecord(unitDirs, id)).env).toMatchObject({ has_worker_token: false, knows_worker_token_file: false });
    await launcher.stop();
    rmSync(unitDirs.root, { recursive: true, force: true });
  });

  it("with the runbook's service token instead, it still runs and says to issue it a worker token", async () => {
    const serviceDirs = launcherDirs();
    const launcher = await startLauncher(api, serviceDirs, workerEnv({ OPS_WORKER_TOKEN_FILE: undefined, OPS_SERVICE_TOKEN: api.serviceToken, OPS_WORKER_ID: "cred-service" }));
    launchers.push(launcher);
    expect(launcher.output()).toContain(
      "this launcher authenticates with the service token, an instance admin credential; issue it a worker token (POST /api/workers/tokens or Ajustes → Workers) and set OPS_WORKER_TOKEN_FILE",
    );
    expect(launcher.output()).not.toContain(api.serviceToken);
    await launcher.stop();
    rmSync(serviceDirs.root, { recursive: true, force: true });
  });

  it("stops at start when its OPS_WORKER_ID is not the worker the token was issued for", async () => {
    const run = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "apps/launcher/src/main.ts")], {
      cwd: REPO_ROOT,
      env: launcherEnv(api, dirs, workerEnv({ OPS_WORKER_ID: "someone-else", OPS_LAUNCHER_LOG: "-" })),
      encoding: "utf8",
      timeout: 60_000,
    });
    expect(run.status, run.stderr).toBe(2);
    expect(run.stderr).toContain("the worker token is bound to worker cred-worker, but OPS_WORKER_ID is someone-else; set OPS_WORKER_ID=cred-worker");
    expect(`${run.stdout}${run.stderr}`).not.toContain(token);
  });
});

/** A real HTTP server that records every request's headers. */
async function listen(handler: (req: { url?: string; headers: IncomingHttpHeaders }, res: import("node:http").ServerResponse) => void): Promise<number> {
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => handler(req, res));
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

describe("an API answering with a redirect", () => {
  let received: IncomingHttpHeaders[];
  let redirector: number;
  let elsewhere: number;

  beforeAll(async () => {
    received = [];
    elsewhere = await listen((req, res) => {
      received.push(req.headers);
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
    redirector = await listen((req, res) => {
      res.writeHead(307, { location: `http://127.0.0.1:${elsewhere}${req.url}` }).end();
    });
  });

  it("would hand the token on to another port if followed (the setup can see a leak)", async () => {
    await fetch(`http://127.0.0.1:${redirector}/trpc/dispatch.credential`, { headers: { [WORKER_TOKEN_HEADER]: "opsw_control-request-not-a-real-token" } });
    expect(received.map((h) => h[WORKER_TOKEN_HEADER])).toEqual(["opsw_control-request-not-a-real-token"]);
    received.length = 0;
  });

  it("the launcher's client refuses it, naming where it pointed, and the other port receives nothing", async () => {
    const client = createApiClient(`http://127.0.0.1:${redirector}/trpc`, { header: WORKER_TOKEN_HEADER, token });
    const error = await client.dispatch.credential.query({}).then(
      () => undefined,
      (e: Error) => e,
    );
    expect(error?.message).toBe(
      `the API answered 307 redirecting to http://127.0.0.1:${elsewhere}/trpc/dispatch.credential; the launcher does not follow redirects (its token would go along): set OPS_API_BASE to the final URL`,
    );
    expect(received).toEqual([]);
  });

  it("a launcher process pointed at it keeps its token: it logs the refusal and the other port receives nothing", async () => {
    const redirectDirs = launcherDirs();
    const launcher = await startLauncher(api, redirectDirs, workerEnv({ OPS_API_BASE: `http://127.0.0.1:${redirector}/api` }));
    launchers.push(launcher);
    await launcher.waitForOutput(/the launcher does not follow redirects/);
    // The heartbeat, the claim long-poll and the stop watch have all been tried by now.
    await launcher.waitForOutput(/heartbeat failed/);
    expect(received).toEqual([]);
    expect(launcher.output()).not.toContain(token);
    await launcher.stop();
    rmSync(redirectDirs.root, { recursive: true, force: true });
  });
});

describe("worker:doctor with a worker token", () => {
  const doctor = (extra: Record<string, string | undefined> = {}) => {
    const run = spawnSync(process.execPath, ["--import", "tsx", DOCTOR_MAIN], {
      cwd: REPO_ROOT,
      env: launcherEnv(api, dirs, workerEnv({ OPS_LAUNCHER_ENV_FILE: "", AGENT_CREDENTIALS_CREDOK: "none", ...extra })),
      encoding: "utf8",
      timeout: 60_000,
    });
    return { status: run.status, out: `${run.stdout}${run.stderr}` };
  };

  it("says the worker token is used, checks it with the API and finds its file private", () => {
    const { status, out } = doctor();
    expect(out).toMatch(new RegExp(`credential\\s+OK\\s+worker token from OPS_WORKER_TOKEN_FILE ${tokenFile}`));
    expect(out).toMatch(new RegExp(`token file\\s+OK\\s+${tokenFile} mode 0600, owned by uid ${process.getuid!()}`));
    expect(out).toMatch(/api\s+OK\s+.*worker token for cred-worker accepted/);
    expect(out).not.toContain(token);
    expect(out.trim().split("\n").at(-1)).toBe("[doctor] PASS all runtimes available");
    expect(status).toBe(0);
  });

  it("fails on a token file others can read, and on a token the API does not know", () => {
    chmodSync(tokenFile, 0o644);
    try {
      // The launcher itself says so at start (a warning; here the mismatched worker id ends the run at once).
      const started = spawnSync(process.execPath, ["--import", "tsx", join(REPO_ROOT, "apps/launcher/src/main.ts")], {
        cwd: REPO_ROOT,
        env: launcherEnv(api, dirs, workerEnv({ OPS_WORKER_ID: "someone-else", OPS_LAUNCHER_LOG: "-" })),
        encoding: "utf8",
        timeout: 60_000,
      });
      expect(started.stderr).toContain(`${tokenFile} is mode 0644: group or others can read it (an agent running as another user could); chmod 600 ${tokenFile}`);
      const { status, out } = doctor();
      expect(out).toMatch(new RegExp(`token file\\s+FAIL\\s+${tokenFile} is mode 0644: group or others can read it .*; chmod 600 ${tokenFile}`));
      expect(out.trim().split("\n").at(-1)).toBe("[doctor] FAIL failed: token file");
      expect(status).toBe(1);
    } finally {
      chmodSync(tokenFile, 0o600);
    }
    const unknown = join(dirs.root, "unknown-token");
    writeFileSync(unknown, "opsw_a-token-the-api-never-issued-0123456789", { mode: 0o600 });
    const { status, out } = doctor({ OPS_WORKER_TOKEN_FILE: unknown });
    expect(out).toMatch(/api\s+FAIL\s+.*rejected OPS_WORKER_TOKEN_FILE .* \(UNAUTHORIZED\); the worker token is revoked or unknown; issue a new one/);
    expect(out).not.toContain("opsw_a-token-the-api-never-issued");
    expect(status).toBe(1);
  });

  it("warns when the launcher uses the service token or a token in its environment, and on plain http allowed to another host", () => {
    let { status, out } = doctor({ OPS_WORKER_TOKEN_FILE: undefined, OPS_WORKER_ID: "doctor-service", OPS_SERVICE_TOKEN: api.serviceToken });
    expect(out).toMatch(/credential\s+WARN\s+this launcher uses the service token \(OPS_SERVICE_TOKEN\), an instance-wide admin credential; issue it a worker token/);
    expect(out).toMatch(/api\s+OK\s+.*service token accepted/);
    expect(status).toBe(0);

    ({ status, out } = doctor({ OPS_WORKER_TOKEN_FILE: undefined, OPS_WORKER_TOKEN: token, OPS_SERVICE_TOKEN: api.serviceToken }));
    expect(out).toMatch(/credential\s+WARN\s+worker token from OPS_WORKER_TOKEN: the environment stays readable in \/proc\/<pid>\/environ/);
    expect(out).toMatch(/credential\s+WARN\s+also set and ignored: OPS_SERVICE_TOKEN/);
    expect(out).not.toContain(token);

    // 0.0.0.0 reaches this machine's 127.0.0.1 on Linux, yet is not a loopback name: plain http there needs the flag.
    const insecure = `http://0.0.0.0:${api.port}/api`;
    ({ out } = doctor({ OPS_API_BASE: insecure }));
    expect(out).toContain("OPS_API_BASE: http://0.0.0.0:");
    expect(out).toContain("[doctor] FAIL invalid configuration");
    ({ out } = doctor({ OPS_API_BASE: insecure, OPS_ALLOW_INSECURE_API: "1" }));
    expect(out).toMatch(/api transport\s+WARN\s+OPS_ALLOW_INSECURE_API=1: http:\/\/0\.0\.0\.0:\d+\/api is plain http to another host/);
  });
});

import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureAgent, type LauncherDirs, launcherDirs, type Rest, type RunningLauncher, startLauncher, waitForTask } from "../../apps/launcher/test/harness.ts";
import { lookupUnixUser, type UnixUser } from "../../apps/launcher/src/unix-user.ts";
import { createFreshDatabase, type FreshDatabase } from "../support/postgres.ts";
import { restClient, type SpawnedApi, spawnApi } from "../support/spawn-api.ts";

// Issue 13's isolation case with real processes and a second Unix user: a
// launcher running as root with OPS_AGENT_USER starts an agent that looks for
// the launcher's token everywhere it could (every /proc/*/environ and
// /proc/*/cmdline it can read, the launcher's env file and token file, its
// state and log folders, the worker log, its own environment, its HOME) and
// finds nothing, yet reports through its task token. The control case, the
// same launcher without OPS_AGENT_USER, shows the probe does find the token
// when it is there to find (in /proc/<launcher pid>/environ).

const AGENT_USER = "ops-agent-test";
// The launcher's credential: a shape the probe can recognise without being told the value.
const TOKEN = `opsiso${randomBytes(20).toString("hex")}`;
const TOKEN_SHA = createHash("sha256").update(TOKEN).digest("hex");

/**
 * The agent: looks for /opsiso[0-9a-f]{40}/ everywhere it can read, records
 * the sha256 of each hit and where, reports with its task token. Every run of
 * the program — the launcher's `--version` probe included — also leaves a
 * record in `runsDir`, so a run as root anywhere is seen.
 */
const probeSource = (runsDir: string) => `#!${process.execPath}
import { readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
const PATTERN = new RegExp("opsiso" + "[0-9a-f]{40}|opsw" + "_[A-Za-z0-9_-]{20,}", "g");
const found = [];
const seen = { environ: 0, cmdline: 0, files: 0, denied: 0 };
const look = (where, text) => {
  for (const m of text.matchAll(PATTERN)) found.push({ where, sha256: createHash("sha256").update(m[0]).digest("hex") });
};
const readText = (path) => {
  try {
    const st = statSync(path);
    if (!st.isFile() && !path.startsWith("/proc/")) return undefined;
    if (st.size > 4 * 1024 * 1024) return undefined;
    return readFileSync(path, "latin1");
  } catch {
    seen.denied++;
    return undefined;
  }
};
const walk = (path, depth = 0) => {
  let st;
  try { st = statSync(path); } catch { seen.denied++; return; }
  if (st.isDirectory()) {
    if (depth > 8) return;
    let names;
    try { names = readdirSync(path); } catch { seen.denied++; return; }
    for (const name of names.slice(0, 2000)) walk(join(path, name), depth + 1);
  } else if (st.isFile()) {
    const text = readText(path);
    if (text !== undefined) { seen.files++; look(path, text); }
  }
};
for (const pid of readdirSync("/proc").filter((e) => /^\\d+$/.test(e))) {
  for (const kind of ["environ", "cmdline"]) {
    const text = readText(\`/proc/\${pid}/\${kind}\`);
    if (text !== undefined) { seen[kind]++; look(\`/proc/\${pid}/\${kind}\`, text); }
  }
}
const args = process.argv.slice(2);
for (const path of args.filter((a) => a.startsWith("/"))) walk(path);
walk(process.env.HOME ?? "/nonexistent");
look("own environment", JSON.stringify(process.env));
const result = { uid: process.getuid(), gid: process.getgid(), groups: process.getgroups(), home: process.env.HOME, cwd: process.cwd(), env_names: Object.keys(process.env).sort(), seen, found };
writeFileSync(join(${JSON.stringify(runsDir)}, \`\${basename(process.argv[1])}-\${process.pid}.json\`), JSON.stringify({ ...result, args }));
if (args[0] === "--version") {
  console.log("probe 1.0.0");
  process.exit(0);
}
writeFileSync("probe.json", JSON.stringify(result, null, 2));
const post = async (path, body) => {
  const res = await fetch(\`\${process.env.OPS_API_BASE}/tasks/\${process.env.OPS_TASK_ID}\${path}\`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-ops-task-token": process.env.OPS_TASK_TOKEN ?? "" },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(\`\${path}: \${res.status} \${await res.text()}\`);
};
await post("/context", { kind: "deliverable", body: \`probe report: \${found.length} token hit(s)\` });
await post("/comments", { body: \`probe uid=\${result.uid} searched \${seen.environ} environ, \${seen.cmdline} cmdline, \${seen.files} files; hits: \${found.length}\` });
`;

interface ProbeResult {
  uid: number;
  gid: number;
  groups: number[];
  home: string;
  cwd: string;
  env_names: string[];
  seen: { environ: number; cmdline: number; files: number; denied: number };
  found: Array<{ where: string; sha256: string }>;
}

/** The second Unix user, created when missing (idempotent). Root is required: a missing prerequisite is a failure, never a skip. */
function ensureAgentUser(): UnixUser {
  if (process.getuid?.() !== 0) {
    throw new Error(`this suite must run as root (uid ${process.getuid?.()}): it creates the Unix user ${AGENT_USER} and runs a launcher that starts agents as that user (CI runs as root)`);
  }
  const existing = lookupUnixUser(AGENT_USER);
  if (existing) return existing;
  const added = spawnSync("useradd", ["--system", "--create-home", "--shell", "/usr/sbin/nologin", AGENT_USER], { encoding: "utf8" });
  if (added.error) throw new Error(`useradd is missing (${added.error.message}): install it (apt-get install -y passwd) to run this suite`);
  if (added.status !== 0 && added.status !== 9) throw new Error(`useradd ${AGENT_USER} failed (${added.status}): ${added.stderr}`);
  const user = lookupUnixUser(AGENT_USER);
  if (!user) throw new Error(`useradd reported success but ${AGENT_USER} is not in the passwd database`);
  return user;
}

let db: FreshDatabase;
let api: SpawnedApi;
let rest: Rest;
let agentUser: UnixUser;
const launchers: RunningLauncher[] = [];
const etc = mkdtempSync(join(tmpdir(), "ops-iso-etc-"));
const probeDir = mkdtempSync(join(tmpdir(), "ops-iso-probe-"));
const runsDir = join(probeDir, "runs");

/** Every run of a probe program so far (by its file name): task runs and `--version` probes. */
function runsOf(slug: string): Array<ProbeResult & { args: string[] }> {
  return readdirSync(runsDir)
    .filter((f) => f.startsWith(`${slug}.mjs-`))
    .map((f) => JSON.parse(readFileSync(join(runsDir, f), "utf8")));
}

/**
 * The launcher's files as deploy lays them out: an env file and a token file,
 * root's and 0600, in a folder anyone may enter; its own folders in a parent
 * anyone may enter too, so only their own modes protect them.
 */
function launcherFiles(dirs: LauncherDirs, workerId: string, env: Record<string, string | undefined>, token: string) {
  chmodSync(dirs.root, 0o755);
  const envFile = join(etc, `${workerId}.env`);
  const lines = Object.entries(env).flatMap(([k, v]) => (v === undefined ? [] : [`${k}=${v}`]));
  writeFileSync(envFile, `${lines.join("\n")}\n`, { mode: 0o600 });
  const tokenFile = join(etc, `${workerId}.token`);
  writeFileSync(tokenFile, `${token}\n`, { mode: 0o600 });
  return { envFile, tokenFile };
}

/**
 * A launcher for one probe slug, and one task it runs. By default the token
 * is the service token in the launcher's environment (the hardest place to
 * keep from an agent: /proc/<pid>/environ keeps it for the process's life);
 * with `workerToken`, a worker token in a root-only OPS_WORKER_TOKEN_FILE.
 */
async function runProbe(slug: string, extraEnv: Record<string, string | undefined>, workerToken?: string) {
  const dirs = launcherDirs();
  const workerId = `iso-${slug}`;
  const tokenFile = join(etc, `${workerId}.token`);
  const env: Record<string, string | undefined> = {
    OPS_WORKER_ID: workerId,
    SUPPORTED_AGENT_SLUGS: slug,
    ...(workerToken ? { OPS_SERVICE_TOKEN: undefined, OPS_WORKER_TOKEN_FILE: tokenFile } : { OPS_SERVICE_TOKEN: TOKEN }),
    ...extraEnv,
  };
  const { envFile } = launcherFiles(dirs, workerId, env, workerToken ?? TOKEN);
  const launcher = await startLauncher(api, dirs, {
    ...env,
    [`AGENT_CMD_${slug.toUpperCase()}`]: `${join(probeDir, `${slug}.mjs`)} ${envFile} ${tokenFile} ${dirs.stateDir} ${dirs.logDir} ${dirs.workerLog} ${etc}`,
  });
  launchers.push(launcher);
  const created = await rest("POST", "/tasks", { title: `find the launcher's token (${slug})`, execution: "interactive", agent_slug: slug });
  expect(created.status, JSON.stringify(created.body)).toBe(200);
  const id = created.body.id as number;
  expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
  const task = await waitForTask(rest, id, (t) => t.status === "review" || t.status === "waiting", "review", 60_000);
  expect(task.status, `${JSON.stringify(task)}\n${launcher.output().slice(-3000)}`).toBe("review");
  const comments = (await rest("GET", `/tasks/${id}/comments`)).body as Array<{ body: string }>;
  const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; body: string }>;
  return { id, task, dirs, launcher, comments, context };
}

beforeAll(async () => {
  agentUser = ensureAgentUser();
  chmodSync(probeDir, 0o755);
  mkdirSync(runsDir, { mode: 0o1777 });
  chmodSync(runsDir, 0o1777);
  for (const slug of ["probeiso", "probectl", "probetok"]) writeFileSync(join(probeDir, `${slug}.mjs`), probeSource(runsDir), { mode: 0o755 });
  chmodSync(etc, 0o755);
  db = await createFreshDatabase("ops_agent_iso");
  api = await spawnApi({ databaseUrl: db.url, env: { OPS_SERVICE_TOKEN: TOKEN } });
  rest = restClient(api.apiBase, { "x-ops-service-token": TOKEN });
  for (const slug of ["probeiso", "probectl", "probetok"]) await ensureAgent(rest, slug);
  expect((await rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
}, 180_000);

afterAll(async () => {
  for (const launcher of launchers) await launcher.stop();
  await api?.stop();
  await db?.drop();
  for (const l of launchers) rmSync(l.dirs.root, { recursive: true, force: true });
  rmSync(etc, { recursive: true, force: true });
  rmSync(probeDir, { recursive: true, force: true });
  if (agentUser) for (const dir of ["ops-workdirs", ".ops-prompts"]) rmSync(join(agentUser.home, dir), { recursive: true, force: true });
});

describe("an agent isolated from its launcher (OPS_AGENT_USER)", () => {
  it("runs as the agent user, finds the launcher's token nowhere, and still reports through its task token", async () => {
    // OPS_WORKDIR_ROOTS empty: the default, ~/ops-workdirs of the agent user.
    const run = await runProbe("probeiso", { OPS_AGENT_USER: AGENT_USER, OPS_WORKDIR_ROOTS: "" });
    const workdir = join(agentUser.home, "ops-workdirs", `task-${run.id}`);
    const probe = JSON.parse(readFileSync(join(workdir, "probe.json"), "utf8")) as ProbeResult;

    expect(probe.uid).toBe(agentUser.uid);
    expect(probe.gid).toBe(agentUser.gid);
    expect(probe.groups.filter((g) => g !== agentUser.gid)).toEqual([]);
    expect(probe.home).toBe(agentUser.home);
    expect(probe.cwd).toBe(workdir);
    expect(statSync(workdir).uid).toBe(agentUser.uid);
    // The probe looked: every process's cmdline, its own environ at least, the files it could open.
    expect(probe.seen.cmdline).toBeGreaterThan(3);
    expect(probe.seen.environ).toBeGreaterThanOrEqual(1);
    expect(probe.found).toEqual([]);
    expect(probe.env_names).not.toContain("OPS_SERVICE_TOKEN");
    expect(probe.env_names).toContain("OPS_TASK_TOKEN");

    // The launcher's folders and files stay root's and private.
    for (const dir of [run.dirs.stateDir, run.dirs.logDir]) expect(statSync(dir).mode & 0o077, dir).toBe(0);
    expect(statSync(join(etc, "iso-probeiso.env")).mode & 0o077).toBe(0);

    expect(run.comments.some((c) => c.body.startsWith(`probe uid=${agentUser.uid} `) && c.body.endsWith("hits: 0"))).toBe(true);
    expect(run.context.find((c) => c.kind === "deliverable")?.body).toBe("probe report: 0 token hit(s)");
    // Every run of the agent's program, the launcher's `--version` probe included, was the agent user's and found nothing.
    const runs = runsOf("probeiso");
    expect(runs.some((r) => r.args[0] === "--version")).toBe(true);
    expect(runs.length).toBeGreaterThanOrEqual(2);
    for (const r of runs) expect({ args: r.args.slice(0, 1), uid: r.uid, found: r.found }).toEqual({ args: r.args.slice(0, 1), uid: agentUser.uid, found: [] });
  }, 120_000);

  it("with a worker token in a root-only OPS_WORKER_TOKEN_FILE: the agent user finds neither it nor anything else", async () => {
    const issued = await rest("POST", "/workers/tokens", { worker_id: "iso-probetok", workspace_ids: null, label: "agent isolation test" });
    expect(issued.status, JSON.stringify(issued.body)).toBe(200);
    const workerToken = issued.body.token as string;
    const workerTokenSha = createHash("sha256").update(workerToken).digest("hex");
    const run = await runProbe("probetok", { OPS_AGENT_USER: AGENT_USER, OPS_WORKDIR_ROOTS: "" }, workerToken);
    expect(run.launcher.output()).not.toContain("uses the service token");
    const probe = JSON.parse(readFileSync(join(agentUser.home, "ops-workdirs", `task-${run.id}`, "probe.json"), "utf8")) as ProbeResult;
    expect(probe.uid).toBe(agentUser.uid);
    expect(probe.found).toEqual([]);
    for (const r of runsOf("probetok")) expect({ uid: r.uid, found: r.found }).toEqual({ uid: agentUser.uid, found: [] });
    expect(run.comments.some((c) => c.body.startsWith(`probe uid=${agentUser.uid} `) && c.body.endsWith("hits: 0"))).toBe(true);
    // The probe's pattern takes the whole worker token, so a hit would have carried its hash; the file holds it.
    expect(/opsw_[A-Za-z0-9_-]{20,}/.exec(workerToken)?.[0]).toBe(workerToken);
    expect(createHash("sha256").update(readFileSync(join(etc, "iso-probetok.token"), "utf8").trim()).digest("hex")).toBe(workerTokenSha);
  }, 120_000);

  it("a link the agent user plants in its HOME does not make root write or chown through it", async () => {
    // The agent owns its HOME: it could point ~/.ops-prompts at a folder of root's. The launcher makes the agent's
    // files as the agent user, so the write is refused (EACCES) and the run fails with the reason.
    const victim = mkdtempSync(join(etc, "victim-"));
    chmodSync(victim, 0o755);
    const prompts = join(agentUser.home, ".ops-prompts");
    rmSync(prompts, { recursive: true, force: true });
    symlinkSync(victim, prompts);
    try {
      const created = await rest("POST", "/tasks", { title: "planted link", execution: "interactive", agent_slug: "probeiso" });
      const id = created.body.id as number;
      expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
      const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting", 30_000);
      expect(task.blocked_reason).toMatch(new RegExp(`^cannot prepare the agent's files as uid ${agentUser.uid} .*EACCES`));
      expect(readdirSync(victim)).toEqual([]);
      expect(statSync(victim).uid).toBe(0);
    } finally {
      rmSync(prompts, { force: true });
    }
  });

  it("control: the same launcher without OPS_AGENT_USER lets the agent read the token from the launcher's environment", async () => {
    // A small HOME of its own: the probe, as root, would otherwise walk all of /root.
    const run = await runProbe("probectl", { HOME: mkdtempSync(join(etc, "home-")) });
    const probe = JSON.parse(readFileSync(join(run.dirs.root, `task-${run.id}`, "probe.json"), "utf8")) as ProbeResult;
    expect(probe.uid).toBe(0);
    const launcherPid = run.launcher.process.pid!;
    const hits = probe.found.filter((f) => f.sha256 === TOKEN_SHA).map((f) => f.where);
    expect(hits).toContain(`/proc/${launcherPid}/environ`);
    expect(hits).toContain(join(etc, "iso-probectl.env"));
    // Its own environment is scrubbed even so.
    expect(hits).not.toContain("own environment");
    expect(run.comments.some((c) => c.body.startsWith("probe uid=0 "))).toBe(true);
    expect(existsSync(join(run.dirs.root, `task-${run.id}`))).toBe(true);
    // The launcher's `--version` probe ran it as root too, and it found the token.
    expect(runsOf("probectl").some((r) => r.args[0] === "--version" && r.uid === 0 && r.found.some((f) => f.sha256 === TOKEN_SHA))).toBe(true);
  }, 120_000);
});

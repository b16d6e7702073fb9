import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import postgres from "postgres";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  agentRecord,
  ensureAgent,
  FAKE_AGENT,
  launcherDirs,
  type Rest,
  type RunningLauncher,
  serviceRest,
  startLauncher,
  waitForTask,
} from "../../apps/launcher/test/harness.ts";
import { hashPassword } from "../../apps/api/src/auth/crypto.ts";
import { createFreshDatabase, type FreshDatabase } from "../support/postgres.ts";
import { restClient, type SpawnedApi, spawnApi } from "../support/spawn-api.ts";

// Issue 17's critical finding with a real launcher (as the shipped unit runs
// it: the whole instance), the real API and PostgreSQL: the admin of
// workspace 2 tries to make the launcher run a command of its choosing. And
// a failed run's output reaches the next attempt as agent output, never as the
// launcher's words.

let db: FreshDatabase;
let api: SpawnedApi;
let rest: Rest;
let launcher: RunningLauncher;
const dirs = launcherDirs();
const pwned = join(dirs.root, "pwned");

async function signIn(username: string, password: string): Promise<Rest> {
  const res = await fetch(`${api.apiBase}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ username, password }),
  });
  expect(res.status).toBe(200);
  return restClient(api.apiBase, { cookie: res.headers.get("set-cookie")!.split(";")[0]! });
}

/** A workspace admin, straight into the database (the API has no user management yet). */
async function workspaceAdmin(username: string, workspaceId: number): Promise<Rest> {
  const password = "workspace-admin-password";
  const sql = postgres(db.url, { max: 1, onnotice: () => {} });
  try {
    await sql`insert into workspaces (id, name) values (${workspaceId}, ${`Workspace ${workspaceId}`}) on conflict do nothing`;
    const [user] = await sql`insert into users (username, password_hash) values (${username}, ${await hashPassword(password)}) returning id`;
    await sql`insert into memberships (workspace_id, user_id, role) values (${workspaceId}, ${user!.id}, 'admin')`;
  } finally {
    await sql.end();
  }
  return signIn(username, password);
}

beforeAll(async () => {
  db = await createFreshDatabase("ops_tenant_launcher");
  api = await spawnApi({ databaseUrl: db.url });
  rest = serviceRest(api);
  for (const slug of ["fakeecho", "fakefail"]) await ensureAgent(rest, slug);
  expect((await rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
  launcher = await startLauncher(api, dirs, {
    OPS_WORKER_ID: "tenant-launcher",
    SUPPORTED_AGENT_SLUGS: "fakeecho,fakefail",
    AGENT_CMD_FAKEECHO: `${FAKE_AGENT} echo {prompt}`,
    AGENT_CMD_FAKEFAIL: `${FAKE_AGENT} fail {prompt}`,
  });
}, 180_000);

afterAll(async () => {
  await launcher?.stop();
  await api?.stop();
  await db?.drop();
  rmSync(dirs.root, { recursive: true, force: true });
});

describe("a real launcher serving two workspaces", () => {
  it("never runs a command workspace 2's admin chose: the agent's launch command is refused, the host's command runs", async () => {
    const mallory = await workspaceAdmin("mallory", 2);
    const attack = { workspace_id: 2, slug: "fakeecho", name: "Echo", launch_command: `/bin/sh -c 'id > ${pwned}'` };
    const refused = await mallory("POST", "/agents", attack);
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ code: "FORBIDDEN", field: "launch_command" });
    const agent = await mallory("POST", "/agents", { ...attack, launch_command: undefined });
    expect(agent.status).toBe(200);
    expect((await mallory("PATCH", `/agents/${agent.body.id}`, { launch_command: attack.launch_command })).status).toBe(403);
    // Workspace 1's admin rewriting the agent every launcher runs: refused too.
    const alice = await workspaceAdmin("alice", 1);
    const seeded = ((await rest("GET", "/agents")).body as Array<{ id: number; slug: string }>).find((a) => a.slug === "fakeecho")!;
    expect((await alice("PATCH", `/agents/${seeded.id}`, { launch_command: attack.launch_command })).status).toBe(403);

    const task = await mallory("POST", "/tasks", { workspace_id: 2, title: "harmless", execution: "interactive", agent_slug: "fakeecho" });
    expect((await mallory("POST", `/tasks/${task.body.id}/dispatch`)).status).toBe(200);
    const done = await waitForTask(rest, task.body.id, (t) => t.status === "review", "review");
    expect(done.dispatch_output.command[0]).toBe(FAKE_AGENT);
    expect((await agentRecord(dirs, task.body.id)).args[0]).toContain("Title: harmless");
    expect(existsSync(pwned)).toBe(false);
  });

  it("hands a failed run's output to the next attempt as untrusted agent output, not as the launcher's words", async () => {
    const created = await rest("POST", "/tasks", { title: "will fail first", execution: "interactive", agent_slug: "fakefail" });
    const id = created.body.id as number;
    await rest("POST", `/tasks/${id}/dispatch`);
    await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
    const context = (await rest("GET", `/tasks/${id}/context`)).body as Array<{ kind: string; source: string; body: string }>;
    expect(context.find((c) => c.kind === "blocker")).toMatchObject({ source: "launcher" });
    expect(context.find((c) => c.kind === "agent-output")).toMatchObject({ source: "ai", body: "fake-agent: boom, missing configuration\n" });

    // The second attempt runs an agent that records the prompt it was given.
    await rest("PATCH", `/tasks/${id}`, { agent_slug: "fakeecho", blocked: false });
    expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
    await waitForTask(rest, id, (t) => t.status === "review", "review");
    const prompt = (await agentRecord(dirs, id)).args[0]!;
    expect(prompt).toMatch(/### agent-output: agent output \(untrusted, [^)]+\)\n> fake-agent: boom, missing configuration/);
    const launcherEntry = prompt.slice(prompt.indexOf("### blocker (launcher"), prompt.indexOf("### agent-output"));
    expect(launcherEntry).toContain("launcher process exited early (code=3, signal=null)");
    expect(launcherEntry).not.toContain("boom");
  });
});

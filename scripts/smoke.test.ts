import { spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFreshDatabase, type FreshDatabase } from "../tests/support/postgres.ts";
import { REPO_ROOT, restClient, type SpawnedApi, spawnApi } from "../tests/support/spawn-api.ts";

function runNpm(script: string, env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("npm", ["run", "--silent", script], { cwd: REPO_ROOT, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (d) => (output += d));
    child.stderr.on("data", (d) => (output += d));
    child.on("close", (code) => resolve({ code, output }));
  });
}

describe.each(["pglite", "postgres"] as const)("runbook smoke scripts against a running server on %s", (kind) => {
  let api: SpawnedApi;
  let fresh: FreshDatabase | undefined;
  beforeAll(async () => {
    if (kind === "postgres") fresh = await createFreshDatabase("ops_smoke");
    api = await spawnApi(fresh ? { databaseUrl: fresh.url } : {});
  });
  afterAll(async () => {
    await api?.stop();
    await fresh?.drop();
  });

  const env = () => ({ OPS_API_BASE: api.apiBase, OPS_SERVICE_TOKEN: api.serviceToken, OPS_WORKSPACE_ID: "1" });
  const rest = () => restClient(api.apiBase, { "X-OPS-Service-Token": api.serviceToken });

  it("npm run smoke:dispatch passes, deletes its tasks and restores dispatch_enabled", async () => {
    const { code, output } = await runNpm("smoke:dispatch", env());
    expect(output).toContain("[smoke] ✓ task");
    expect(output).toMatch(/next → queued/);
    expect(output).toMatch(/Human Gate holds/);
    expect(output).toContain("[smoke] PASS smoke:dispatch");
    expect(code).toBe(0);
    expect((await rest()("GET", "/settings/dispatch_enabled")).body.value).toBe("false");
    expect((await rest()("GET", "/tasks?include_archived=true")).body.total).toBe(0);
    const agents = (await rest()("GET", "/agents")).body.map((a: { slug: string }) => a.slug);
    expect(agents).toEqual(["claudecode", "codex", "hermes", "opencode"]);
  });

  it("npm run smoke:watchdog passes, then archives and resolves what it made", async () => {
    const { code, output } = await runNpm("smoke:watchdog", env());
    expect(output).toContain("stale dispatch reconciled");
    expect(output).toContain("reopened alert");
    expect(output).toContain("triage task");
    expect(output).toContain("[smoke] PASS smoke:watchdog");
    expect(code).toBe(0);
    expect((await rest()("GET", "/alerts")).body).toEqual([]);
    expect((await rest()("GET", "/tasks")).body.total).toBe(0);
    expect((await rest()("GET", "/dispatch/health")).body.worker_summary.total).toBe(0);
  });

  it("fails with a clear message on a wrong token or a missing variable", async () => {
    const wrong = await runNpm("smoke:dispatch", { ...env(), OPS_SERVICE_TOKEN: "wrong" });
    expect(wrong.code).toBe(1);
    expect(wrong.output).toContain("refused OPS_SERVICE_TOKEN (401)");
    const missing = await runNpm("smoke:watchdog", { OPS_API_BASE: api.apiBase, OPS_SERVICE_TOKEN: "" });
    expect(missing.code).toBe(2);
    expect(missing.output).toContain("OPS_SERVICE_TOKEN");
  });
});

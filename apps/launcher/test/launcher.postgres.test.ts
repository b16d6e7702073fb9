import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { dispatchTask, ensureAgent, FAKE_AGENT, launcherDirs, type Rest, type RunningLauncher, serviceRest, startLauncher, waitForTask } from "./harness.ts";

// The production database: LISTEN/NOTIFY wakes the long-poll across connections.
let db: FreshDatabase;
let api: SpawnedApi;
let rest: Rest;
let launcher: RunningLauncher;
const dirs = launcherDirs();

beforeAll(async () => {
  db = await createFreshDatabase("ops_launcher");
  api = await spawnApi({ databaseUrl: db.url });
  rest = serviceRest(api);
  await ensureAgent(rest, "fakeok");
  await ensureAgent(rest, "fakefail");
  await rest("PUT", "/settings/dispatch_enabled", { value: "true" });
  launcher = await startLauncher(api, dirs, {
    OPS_WORKER_ID: "pg-worker",
    SUPPORTED_AGENT_SLUGS: "fakeok,fakefail",
    AGENT_CMD_FAKEOK: `${FAKE_AGENT} ok {prompt}`,
    AGENT_CMD_FAKEFAIL: `${FAKE_AGENT} fail {prompt}`,
  });
}, 120_000);

afterAll(async () => {
  await launcher?.stop();
  await api?.stop();
  await db?.drop();
  rmSync(dirs.root, { recursive: true, force: true });
});

describe("launcher on PostgreSQL", () => {
  it("a parked long-poll picks the task up within a second and the run ends in review", async () => {
    // Let the launcher park in dispatch/next first, so the pickup is the NOTIFY path.
    await new Promise((r) => setTimeout(r, 500));
    const id = await dispatchTask(rest, { title: "pg run", agent_slug: "fakeok" });
    const t0 = Date.now();
    await waitForTask(rest, id, (t) => t.status !== "queued", "picked up");
    expect(Date.now() - t0).toBeLessThan(1000);
    const task = await waitForTask(rest, id, (t) => t.status === "review", "review");
    expect(readFileSync(task.dispatch_output.log_path, "utf8")).toContain(`fake agent working on task ${id}`);
  });

  it("an early exit is blocked with the exact signature", async () => {
    const id = await dispatchTask(rest, { title: "pg fail", agent_slug: "fakefail" });
    const task = await waitForTask(rest, id, (t) => t.status === "waiting", "waiting");
    expect(task.blocked_reason).toBe("launcher process exited early (code=3, signal=null)");
  });
});

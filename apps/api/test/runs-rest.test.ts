import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi, type TestApi } from "./harness.ts";

// The runs' REST surface and the launch_command check, over HTTP on PGlite (the newcomer's database).
let api: TestApi;
beforeAll(async () => {
  api = await startTestApi("pglite");
});
afterAll(async () => api?.close());

describe("launch_command, checked when it is saved", () => {
  it("a command the launcher could not parse is refused with 400, the field and where the problem is, and nothing changes", async () => {
    const created = await api.rest("POST", "/agents", { slug: "badcmd", name: "Bad", launch_command: 'codex exec "{prompt}' });
    expect(created.status).toBe(400);
    expect(created.body.error).toMatchObject({
      code: "VALIDATION",
      field: "launch_command",
      message: "launch_command: unterminated double quote at character 12",
      params: { problem: "unterminated_double_quote", position: 12 },
    });
    expect((await api.rest("GET", "/agents")).body.some((a: { slug: string }) => a.slug === "badcmd")).toBe(false);

    const agent = (await api.rest("POST", "/agents", { slug: "goodcmd", name: "Good", launch_command: "codex exec {prompt}" })).body;
    const update = await api.rest("PATCH", `/agents/${agent.id}`, { launch_command: "codex exec {promt}" });
    expect(update.status).toBe(400);
    expect(update.body.error.message).toBe("launch_command: unknown placeholder {promt} (known: {prompt} {prompt_file} {task_id} {attempt} {model} {workdir}) at character 12");
    expect((await api.rest("GET", "/agents")).body.find((a: { id: number }) => a.id === agent.id).launch_command).toBe("codex exec {prompt}");
  });

  it("a run time limit outside one minute to a week is refused", async () => {
    const agent = (await api.rest("POST", "/agents", { slug: "limits", name: "Limits" })).body;
    for (const bad of [0, 10_081, 1.5]) {
      const res = await api.rest("PATCH", `/agents/${agent.id}`, { run_timeout_minutes: bad });
      expect(res.status).toBe(400);
      expect(res.body.error.field).toBe("run_timeout_minutes");
    }
    expect((await api.rest("PATCH", `/agents/${agent.id}`, { run_timeout_minutes: 10_080 })).body.run_timeout_minutes).toBe(10_080);
  });
});

describe("the runs' settings", () => {
  it.each([
    ["dispatch_run_timeout_minutes", "120", ["0", "10081", "-1", "2h"], ["1", "10080"]],
    ["run_output_max_kb", "4096", ["63", "1048577", "big"], ["64", "1048576"]],
    ["run_output_retention_days", "30", ["0", "3651"], ["1", "3650"]],
  ])("%s defaults to %s and keeps its bounds", async (key, fallback, refused, accepted) => {
    expect((await api.rest("GET", `/settings/${key}`)).body.value).toBe(fallback);
    for (const value of refused) {
      const res = await api.rest("PUT", `/settings/${key}`, { value });
      expect(res.status, value).toBe(400);
      expect(res.body.error.message).toContain(key);
    }
    for (const value of accepted) expect((await api.rest("PUT", `/settings/${key}`, { value })).status).toBe(200);
    await api.rest("PUT", `/settings/${key}`, { value: fallback });
  });
});

describe("runs over REST", () => {
  it("the OpenAPI document lists the runs' paths", async () => {
    const doc = (await api.rest("GET", "/openapi.json")).body;
    expect(Object.keys(doc.paths)).toEqual(expect.arrayContaining(["/tasks/{id}/runs", "/tasks/{id}/runs/{run}", "/tasks/{id}/runs/{run}/output", "/dispatch/output", "/dispatch/stops"]));
    const output = doc.paths["/tasks/{id}/runs/{run}/output"].get;
    expect(output.parameters.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(["id", "run", "offset", "format"]));
  });

  it("a run of another task is not found", async () => {
    await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    const a = (await api.rest("POST", "/tasks", { title: "a", execution: "interactive", agent_slug: "codex" })).body;
    const b = (await api.rest("POST", "/tasks", { title: "b", execution: "interactive", agent_slug: "codex" })).body;
    await api.rest("POST", `/tasks/${a.id}/dispatch`);
    const claim = (await api.rest("POST", "/dispatch/next", { worker_id: "rest-w", agent_slugs: ["codex"] })).body;
    expect(claim.task.id).toBe(a.id);
    expect((await api.rest("GET", `/tasks/${a.id}/runs/${claim.run_id}`)).status).toBe(200);
    expect((await api.rest("GET", `/tasks/${b.id}/runs/${claim.run_id}`)).status).toBe(404);
    const text = await fetch(`${api.apiBase}/tasks/${a.id}/runs/${claim.run_id}/output?format=text`, { headers: { "x-ops-service-token": "suite-service-token-0123456789abcdef" } });
    expect(text.status).toBe(200);
    expect(await text.text()).toBe("");
    expect(text.headers.get("x-ops-output-done")).toBe("false");
  });
});

import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { testLogFile } from "../../../tests/support/log-dir.ts";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { restClient, type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { ensureWebBuilt, launchChromium, REPO_ROOT, screenshot, watchProblems } from "./support.ts";

// A run watched from the browser: the real API on PostgreSQL, a real launcher,
// a fake agent CLI that prints for several seconds, Chromium on the task page.

const FAKE_AGENT = join(REPO_ROOT, "apps/launcher/test/fixtures/fake-agent.mjs");
const LAUNCHER_MAIN = join(REPO_ROOT, "apps/launcher/src/main.ts");

/** The launcher as a process of its own (the web app's tests import nothing from the launcher's code). */
async function startLauncher(api: SpawnedApi, root: string, env: Record<string, string>): Promise<ChildProcess> {
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k, v]) => v !== undefined && !/^(OPS_|AGENT_CMD_|AGENT_CREDENTIALS_|SUPPORTED_)/.test(k))) as Record<string, string>;
  const child = spawn(process.execPath, ["--import", "tsx", LAUNCHER_MAIN], {
    cwd: REPO_ROOT,
    env: {
      ...inherited,
      OPS_API_BASE: api.apiBase,
      OPS_SERVICE_TOKEN: api.serviceToken,
      OPS_LAUNCHER_LOG: testLogFile("launcher-worker"),
      OPS_LAUNCHER_LOG_DIR: join(root, "logs"),
      OPS_LAUNCHER_STATE_DIR: join(root, "state"),
      OPS_WORKDIR_ROOTS: root,
      OPS_HEARTBEAT_INTERVAL_MS: "1000",
      ...env,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!out.includes("launcher started")) {
    if (child.exitCode !== null) throw new Error(`launcher exited: ${out}`);
    if (Date.now() > deadline) throw new Error(`launcher did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

describe("a run's output, live in the browser", () => {
  let db: FreshDatabase;
  let api: SpawnedApi;
  let launcher: ChildProcess;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let rest: ReturnType<typeof restClient>;
  const root = mkdtempSync(join(tmpdir(), "ops-web-runs-"));

  beforeAll(async () => {
    browser = await launchChromium();
    ensureWebBuilt();
    db = await createFreshDatabase("ops_web_runs");
    api = await spawnApi({ databaseUrl: db.url });
    rest = restClient(api.apiBase, { "X-OPS-Service-Token": api.serviceToken });
    for (const slug of ["talker", "nocreds"]) expect((await rest("POST", "/agents", { slug, name: slug })).status).toBe(200);
    expect((await rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
    launcher = await startLauncher(api, root, {
      OPS_WORKER_ID: "vm-launcher",
      SUPPORTED_AGENT_SLUGS: "talker,nocreds",
      // 30 lines over about 9 s.
      AGENT_CMD_TALKER: `${FAKE_AGENT} chatty 30 300 {prompt}`,
      AGENT_CMD_NOCREDS: `${FAKE_AGENT} ok {prompt}`,
      AGENT_CREDENTIALS_NOCREDS: "env:NOCREDS_API_KEY",
    });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "es-ES" });
    page = await context.newPage();
    page.setDefaultTimeout(30_000);
    problems = watchProblems(page);
    await page.goto(`${api.baseUrl}/`);
    await page.getByLabel("Usuario").fill(api.adminUser);
    await page.getByLabel("Contraseña").fill(api.adminPassword);
    await page.getByRole("button", { name: "Entrar" }).click();
    await page.getByRole("heading", { name: "Automatizaciones" }).waitFor();
  }, 180_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || !page) return;
    console.error(`[e2e] page ${page.url()}:\n${(await page.locator("body").innerText().catch(() => "")).slice(0, 2000)}`);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    if (launcher && launcher.exitCode === null) {
      const exited = new Promise((r) => launcher.once("exit", r));
      launcher.kill("SIGTERM");
      await exited;
    }
    await api?.stop();
    await db?.drop();
    rmSync(root, { recursive: true, force: true });
  });

  const text = (locator: Locator) => expect.poll(async () => ((await locator.count()) > 0 ? await locator.first().innerText() : ""), { timeout: 30_000 });

  it("shows a running agent's lines as they are printed, then the finished run", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: agente que habla", execution: "interactive", agent_slug: "talker" });
    const id = created.body.id as number;
    await page.goto(`${api.baseUrl}/tareas/${id}`);
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    const output = page.getByTestId("run-output");
    const shows = (line: string) => expect.poll(async () => ((await output.count()) > 0 ? await output.innerText() : ""), { timeout: 30_000 }).toContain(`${line}\n`);
    // Lines appear while the task is still doing: the page follows the run, no reload.
    await shows("out line 2");
    const task = await rest("GET", `/tasks/${id}`);
    expect(task.body.status).toBe("doing");
    expect(await output.innerText()).not.toContain("out line 30");
    await text(page.getByTestId("run-output-state")).toBe("En directo: se actualiza cada segundo.");
    await shows("out line 9");
    await screenshot(page, "13-task-run-output-live");
    await shows("out line 29");
    await text(page.getByTestId("run-output-state")).toBe("Salida completa.");
    // The token the agent printed never reached the page; stderr is told apart and its colour rendered.
    const shown = await output.innerText();
    expect(shown).toContain("out line 3 token=*** key=");
    expect(shown).not.toContain("\u001b");
    await output.locator('[data-stream="stderr"] .ansi-fg-1', { hasText: "err line 5" }).first().waitFor();
    await page.reload();
    await page.locator("#runs .badge", { hasText: "review" }).waitFor();
    await text(page.locator("#runs tbody tr").first()).toContain("vm-launcher");
    await text(page.getByTestId("dispatch-output")).toContain("chatty 30 300");
    await screenshot(page, "14-task-runs");
  });

  it("shows why a runtime is not usable in the Workers table", async () => {
    await page.goto(`${api.baseUrl}/operacion/automatizaciones`);
    const row = page.locator("#workers").getByRole("row", { name: /vm-launcher/ });
    await text(row).toContain("nocreds");
    await text(row).toContain("sin credenciales");
    await text(row).toContain("NOCREDS_API_KEY");
  });

  it("refuses a launch command the launcher could not parse, in the Agentes page and on save", async () => {
    await page.goto(`${api.baseUrl}/agentes`);
    // Agentes shows each agent read-only; Editar opens its form.
    const card = page.locator("section[data-agent=talker]");
    await card.getByRole("button", { name: "Editar" }).click();
    const form = card.locator("form");
    const field = form.getByLabel("Comando de lanzamiento");
    await field.fill('codex exec "{prompt}');
    await text(form.getByTestId("launch-command-problem")).toContain("comilla doble sin cerrar en el carácter 12");
    await form.getByRole("button", { name: "Guardar" }).click();
    // The API's refusal, in the same words: its params name the problem and where.
    await text(form.getByRole("alert").filter({ hasNotText: "El launcher no podría" })).toContain("comilla doble sin cerrar en el carácter 12");
    await screenshot(page, "08a-agentes-launch-command-refused");
    const agents = (await rest("GET", "/agents")).body as Array<{ slug: string; launch_command: string | null }>;
    expect(agents.find((a) => a.slug === "talker")?.launch_command).toBeNull();
  });

  it("ran without CSP violations or page errors", () => {
    expect(problems).toEqual([]);
  });
});

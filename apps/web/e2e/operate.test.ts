import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Browser, BrowserContext, Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { restClient, type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { ensureWebBuilt, launchChromium, screenshot, watchProblems } from "./support.ts";

// An operator's session in a real browser against the real API on a fresh database.
describe("admin web app in Chromium", () => {
  let api: SpawnedApi;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let problems: string[];
  let rest: ReturnType<typeof restClient>;
  let dispatchedTaskId = 0;

  beforeAll(async () => {
    // No Chromium is a failure that says what to install, before anything else starts.
    browser = await launchChromium();
    ensureWebBuilt();
    // The background watchdog would reconcile the stale task before the page shows it: only the button does here.
    api = await spawnApi({ env: { OPS_WATCHDOG_INTERVAL_MS: "3600000" } });
    rest = restClient(api.apiBase, { "X-OPS-Service-Token": api.serviceToken });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: "es-ES" });
    page = await context.newPage();
    // Generous: CI shares two cores with other suites.
    page.setDefaultTimeout(30_000);
    problems = watchProblems(page);
  });

  // On failure: what the browser showed and what the API said, for the CI log.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || !page) return;
    const failed = join(tmpdir(), `ops-web-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
    console.error(`[e2e] page ${page.url()} (screenshot ${failed}):\n${(await page.locator("body").innerText().catch(() => "")).slice(0, 1500)}`);
    console.error(`[e2e] API output (tail):\n${api.output().slice(-3000)}`);
  });

  afterAll(async () => {
    await context?.close();
    await browser?.close();
    await api?.stop();
  });

  const text = (locator: Locator) => expect.poll(async () => ((await locator.count()) > 0 ? await locator.first().innerText() : ""), { timeout: 30_000 });
  const visible = (locator: Locator) => locator.first().waitFor({ state: "visible" });
  const heading = (name: string | RegExp) => page.getByRole("heading", { name, exact: typeof name === "string" });
  const nav = (name: string) => page.getByRole("navigation").getByRole("link", { name, exact: true });

  it("refuses a wrong password without saying which part, then signs in", async () => {
    await page.goto(`${api.baseUrl}/`);
    await heading(/Iniciar sesión/).waitFor();
    await screenshot(page, "01-sign-in");
    await page.getByLabel("Usuario").fill(api.adminUser);
    await page.getByLabel("Contraseña").fill("not-the-password");
    await page.getByRole("button", { name: "Entrar" }).click();
    await page.getByText("Usuario o contraseña incorrectos.").waitFor();
    await page.getByLabel("Contraseña").fill(api.adminPassword);
    await page.getByLabel("Contraseña").press("Enter");
    await heading("Automatizaciones").waitFor();
    expect(new URL(page.url()).pathname).toBe("/operacion/automatizaciones");
    await visible(page.getByRole("navigation").getByText("Operacion"));
  });

  it("creates an interactive task and dispatches it", async () => {
    await nav("Tareas").click();
    await heading("Tareas").waitFor();
    await page.getByRole("link", { name: "Nueva tarea" }).click();
    await page.getByLabel("Título").fill("E2E: revisar el despliegue");
    await page.getByLabel("Descripción").fill("Comprobar que el servicio responde tras el despliegue.");
    await page.locator("select[name=agent]").selectOption({ label: "codex" });
    await page.getByRole("button", { name: "Crear tarea" }).click();
    await page.waitForURL(/\/tareas\/\d+$/);
    dispatchedTaskId = Number(new URL(page.url()).pathname.split("/").pop());
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    await page.getByText("En cola para un worker.").waitFor();
    await visible(page.locator(".page-head .badge", { hasText: "queued" }));
    await screenshot(page, "03-task-queued");

    await nav("Tareas").click();
    await page.getByRole("link", { name: new RegExp(`#${dispatchedTaskId} E2E`) }).waitFor();
    await screenshot(page, "02-tareas-board");
  });

  it("shows the queued task in Automatizaciones with why it is not dispatching, and turns dispatch on", async () => {
    await nav("Automatizaciones").click();
    const queued = page.locator("#queued");
    await queued.getByRole("link", { name: new RegExp(`#${dispatchedTaskId}`) }).waitFor();
    await queued.getByRole("button", { name: "¿Por qué no se despacha?" }).click();
    await queued.getByText("No se despacha ahora porque:").waitFor();

    await text(page.getByTestId("dispatch-state")).toBe("Dispatch: desactivado");
    // By keyboard: the toggle is a real button, and the confirmation takes the focus.
    await page.getByRole("button", { name: "Activar dispatch" }).press("Enter");
    // No fresh worker yet: the toggle asks first.
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("No hay ningún worker fresh").waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Activar de todos modos");
    await page.keyboard.press("Enter");
    await text(page.getByTestId("dispatch-state")).toBe("Dispatch: activado");
    const setting = await rest("GET", "/settings/dispatch_enabled");
    expect(setting.body.value).toBe("true");
  });

  it("sees the task a worker claimed in Dispatching, reconciles it as stale and resolves the alert", async () => {
    const heartbeat = await rest("POST", "/dispatch/heartbeat", {
      worker_id: "e2e-worker-1",
      hostname: "e2e-host",
      pid: 4242,
      version: "e2e",
      agent_slugs: ["codex"],
      models: ["gpt-*"],
      running_task_ids: [],
      free_slots: 1,
    });
    expect(heartbeat.status).toBe(200);
    const claim = await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] });
    expect(claim.body.claimed).toBe(true);
    expect(claim.body.task.id).toBe(dispatchedTaskId);

    await page.getByRole("button", { name: "Actualizar" }).click();
    const dispatching = page.locator("#dispatching");
    const row = dispatching.getByRole("row", { name: new RegExp(`#${dispatchedTaskId}`) });
    await row.waitFor();
    await text(row).toContain("e2e-worker-1");
    await text(row).toContain("dispatching");
    const workers = page.locator("#workers");
    await text(workers.getByRole("row", { name: /e2e-worker-1/ })).toContain("fresh");
    await text(workers.getByRole("row", { name: /e2e-worker-1/ })).toContain("e2e-host");
    await screenshot(page, "04-automatizaciones-dispatching");

    const watchdog = page.locator("#watchdog");
    await expect.poll(() => watchdog.getByLabel("Minutos").inputValue()).toBe("20");
    await watchdog.getByLabel("Minutos").fill("0");
    await watchdog.getByRole("button", { name: "Reconciliar stale" }).click();
    const result = page.getByTestId("reconcile-result");
    await text(result).toContain("Reconciliadas 1 tareas con 0 min.");
    await visible(result.getByRole("link", { name: `#${dispatchedTaskId}` }));
    await visible(dispatching.getByText("Ninguna tarea en dispatching ni en doing."));

    const alerts = page.locator("#alerts");
    const alertRow = alerts.getByRole("row", { name: new RegExp(`#${dispatchedTaskId}`) });
    await alertRow.waitFor();
    await text(alertRow).toContain("dispatch_stale");
    await text(alertRow.locator("td.num")).toBe("1");
    await screenshot(page, "05-automatizaciones-watchdog-alert");

    await alertRow.getByRole("button", { name: /Resolver/ }).click();
    await alerts.getByText("No hay alertas abiertas.").waitFor();
    const open = await rest("GET", "/alerts?status=open");
    expect(open.body).toEqual([]);

    // The task carries the watchdog's blocker for the operator to review.
    await page.getByTestId("reconcile-result").getByRole("link", { name: `#${dispatchedTaskId}`, exact: true }).click();
    await page.locator("#blockers .entry-blocker").first().waitFor();
    await visible(page.locator(".page-head .badge", { hasText: "waiting" }));
    await screenshot(page, "06-task-blocker-history");
  });

  it(
    "highlights a task stale in dispatching and reconciles it with the minutes shown",
    async () => {
      expect((await rest("PUT", "/settings/dispatch_stale_minutes", { value: "1" })).status).toBe(200);
      const created = await rest("POST", "/tasks", { title: "E2E: tarea que se queda en dispatching", agent_slug: "codex", execution: "interactive" });
      const id = created.body.id as number;
      expect((await rest("POST", `/tasks/${id}/dispatch`)).body.status).toBe("queued");
      await rest("POST", "/dispatch/heartbeat", {
        worker_id: "e2e-worker-1",
        hostname: "e2e-host",
        pid: 4242,
        version: "e2e",
        agent_slugs: ["codex"],
        models: ["gpt-*"],
        running_task_ids: [],
        free_slots: 1,
      });
      const claim = await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] });
      expect(claim.body.task?.id).toBe(id);

      // Fresh page state: the minutes field shows the setting again.
      await nav("Tareas").click();
      await nav("Automatizaciones").click();
      const row = page.locator("#dispatching tr.row-stale", { hasText: `#${id}` });
      // dispatch_stale_minutes is 1: after a minute the auto refresh shows it stale.
      await row.waitFor({ timeout: 100_000 });
      await text(row).toContain("STALE");
      await text(page.getByTestId("health-ok")).toBe("Con problemas");
      await visible(page.getByText("Hay tareas atascadas en dispatching"));
      await screenshot(page, "05a-automatizaciones-stale");

      const watchdog = page.locator("#watchdog");
      await expect.poll(() => watchdog.getByLabel("Minutos").inputValue()).toBe("1");
      await watchdog.getByRole("button", { name: "Reconciliar stale" }).click();
      await text(page.getByTestId("reconcile-result")).toContain("Reconciliadas 1 tareas con 1 min.");
      await row.waitFor({ state: "detached" });
      await page.locator("#alerts").getByRole("row", { name: new RegExp(`#${id}`) }).waitFor();
      expect((await rest("GET", `/tasks/${id}`)).body).toMatchObject({ status: "waiting", blocked: true });
      expect((await rest("PUT", "/settings/dispatch_stale_minutes", { value: "20" })).status).toBe(200);
    },
    150_000,
  );

  it("turns dispatch off again", async () => {
    await nav("Automatizaciones").click();
    await page.getByRole("button", { name: "Desactivar dispatch" }).click();
    await text(page.getByTestId("dispatch-state")).toBe("Dispatch: desactivado");
    expect((await rest("GET", "/settings/dispatch_enabled")).body.value).toBe("false");
  });

  it("refuses to mark an AI task done without evidence, in plain words", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: tarea de IA sin entregable", agent_slug: "codex", execution: "interactive" });
    expect(created.status).toBe(200);
    const id = created.body.id as number;
    await page.goto(`${api.baseUrl}/tareas/${id}`);
    await heading(new RegExp(`#${id}`)).waitFor();
    await page.getByLabel("Nuevo estado").selectOption("done");
    await page.getByRole("button", { name: "Aplicar" }).click();
    const refusal = page.locator(".status-changer [role=alert]");
    await text(refusal).toContain("No se puede marcar como done: esta tarea de IA no tiene ningún entregable visible");
    await visible(refusal.getByRole("button", { name: /Forzar/ }));
    await screenshot(page, "07-task-done-guard");
    expect((await rest("GET", `/tasks/${id}`)).body.status).toBe("backlog");

    // With a visible deliverable the same change goes through.
    await page.getByLabel("Comentario", { exact: true }).fill("Entregable: informe en el contexto.");
    await page.getByRole("button", { name: "Añadir" }).nth(1).click();
    await page.locator("#comments").getByText("Entregable: informe en el contexto.").waitFor();
    await page.getByLabel("Nuevo estado").selectOption("done");
    await page.getByRole("button", { name: "Aplicar" }).click();
    await visible(page.locator(".page-head .badge", { hasText: "done" }));
  });

  it("holds a sensitive task at the Human Gate until an admin approves it", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: cambio sensible", agent_slug: "codex", execution: "interactive", sensitive: true });
    const id = created.body.id as number;
    await page.goto(`${api.baseUrl}/tareas/${id}`);
    await heading(new RegExp(`#${id}`)).waitFor();
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    await text(page.locator("#actions [role=alert]")).toContain("Human Gate: la tarea es sensible y necesita la aprobación de un admin");
    await visible(page.locator(".page-head .badge", { hasText: "bloqueada" }));
    await page.getByRole("button", { name: "Aprobar (Human Gate)" }).click();
    await page.getByRole("button", { name: "Aprobar (Human Gate)" }).waitFor({ state: "detached" });
    await text(page.locator("#details")).toContain("Aprobada por user:admin");
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    await page.getByText("En cola para un worker.").waitFor();
    expect((await rest("GET", `/tasks/${id}`)).body).toMatchObject({ status: "queued", blocked: false });
  });

  it("edits an agent's launch command", async () => {
    await nav("Agentes").click();
    const codex = page.getByRole("form", { name: /codex/ });
    await codex.getByLabel("Comando de lanzamiento").fill("codex exec --full-auto {prompt}");
    await codex.getByRole("button", { name: "Guardar" }).click();
    await codex.getByText("Guardado.").waitFor();
    const agents = await rest("GET", "/agents");
    expect(agents.body.find((a: { slug: string }) => a.slug === "codex").launch_command).toBe("codex exec --full-auto {prompt}");
    await screenshot(page, "08-agentes");
  });

  it("validates settings as the API does and shows a rotated service token once", async () => {
    await nav("Ajustes").click();
    const stale = page.getByRole("region", { name: "dispatch_stale_minutes" });
    await stale.getByLabel("Valor").fill("0");
    await text(stale.getByRole("alert")).toBe("dispatch_stale_minutes must be a whole number between 1 and 10080");
    await expect.poll(() => stale.getByRole("button", { name: "Guardar" }).isDisabled()).toBe(true);
    await screenshot(page, "09-ajustes-validation");
    await stale.getByLabel("Valor").fill("25");
    await stale.getByRole("button", { name: "Guardar" }).click();
    await text(stale.getByTestId("value-dispatch_stale_minutes")).toBe("25");

    const token = page.getByRole("region", { name: "service_api_token" });
    await token.getByRole("button", { name: "Rotar service token" }).click();
    await token.getByRole("alertdialog").getByRole("button", { name: "Rotar service token" }).click();
    const fresh = await token.getByTestId("new-token").inputValue();
    expect(fresh.length).toBeGreaterThanOrEqual(24);
    // The picture must not carry a credential, even a throwaway one.
    await screenshot(page, "10-ajustes-token-once", [token.getByTestId("new-token")]);
    const withNew = await restClient(api.apiBase, { "X-OPS-Service-Token": fresh })("GET", "/dispatch/health");
    expect(withNew.status).toBe(200);
    rest = restClient(api.apiBase, { "X-OPS-Service-Token": fresh });
    await token.getByRole("button", { name: "Ya lo he copiado" }).click();
    await token.getByTestId("new-token").waitFor({ state: "detached" });
    await page.reload();
    await heading("Ajustes").waitFor();
    expect(await page.content()).not.toContain(fresh);
  });

  it("speaks English on request", async () => {
    await page.getByLabel("Idioma").selectOption("en");
    await nav("Automations").click();
    await heading("Automations").waitFor();
    await visible(page.getByRole("button", { name: "Reconciliar stale" }));
    await screenshot(page, "11-automations-english");
    await page.getByLabel("Language").selectOption("es");
    await heading("Automatizaciones").waitFor();
  });

  it("fits a narrow window", async () => {
    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await heading("Automatizaciones").waitFor();
    const overflow = () => page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    await page.locator("#alerts").getByRole("table").or(page.locator("#alerts").getByText("No hay alertas abiertas.")).first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(1);
    await screenshot(page, "12-automatizaciones-narrow");
    await nav("Tareas").click();
    await page.locator(".board .task-card").first().waitFor();
    expect(await overflow()).toBeLessThanOrEqual(1);
    await page.locator(".board .task-card a").first().click();
    await page.locator("#details").waitFor();
    expect(await overflow()).toBeLessThanOrEqual(1);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("signs out", async () => {
    await page.getByRole("button", { name: "Cerrar sesión" }).click();
    await heading(/Iniciar sesión/).waitFor();
    const me = await page.evaluate(async () => (await fetch("/trpc/auth.me")).status);
    expect(me).toBe(401);
  });

  it("ran without CSP violations or page errors", () => {
    expect(problems).toEqual([]);
  });
});

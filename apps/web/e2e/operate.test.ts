import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Locator, Page } from "playwright-core";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { restClient, type SpawnedApi } from "../../../tests/support/spawn-api.ts";
import { type BrowserStack, screenshot, sidewaysOverflow, startStack, visibleText } from "./support.ts";

// An operator's day in a real browser against the real API on a fresh
// PostgreSQL database (so the test can age a claim instead of waiting for it).
describe("admin web app in Chromium", () => {
  let stack: BrowserStack;
  let sql: BrowserStack["sql"];
  let api: SpawnedApi;
  let page: Page;
  let rest: BrowserStack["rest"];
  let dispatchedTaskId = 0;

  beforeAll(async () => {
    stack = await startStack("operate");
    ({ sql, api, page, rest } = stack);
  });

  // On failure: what the browser showed and what the API said, for the CI log.
  afterEach(async (ctx) => {
    if (ctx.task.result?.state !== "fail" || !page) return;
    const failed = join(tmpdir(), `ops-web-e2e-failure-${Date.now()}.png`);
    await page.screenshot({ path: failed, fullPage: true }).catch(() => undefined);
    console.error(`[e2e] page ${page.url()} (screenshot ${failed}):\n${(await visibleText(page).catch(() => "")).slice(0, 1500)}`);
    console.error(`[e2e] API output (tail):\n${api.output().slice(-3000)}`);
  });

  afterAll(async () => stack?.close());

  const text = (locator: Locator) => expect.poll(async () => ((await locator.count()) > 0 ? await locator.first().innerText() : ""), { timeout: 30_000 });
  const visible = (locator: Locator) => locator.first().waitFor({ state: "visible" });
  const heading = (name: string | RegExp) => page.getByRole("heading", { name, exact: typeof name === "string" });
  const nav = (name: string) => page.getByRole("navigation").getByRole("link", { name, exact: true });
  const statusBadge = (status: string) => page.locator(`.page-head [data-status=${status}]`);
  const worker = { hostname: "e2e-host", pid: 4242, version: "e2e", models: ["gpt-*"], free_slots: 1 };
  const heartbeat = (id: string, slugs: string[], running: number[] = []) =>
    rest("POST", "/dispatch/heartbeat", { worker_id: id, ...worker, agent_slugs: slugs, running_task_ids: running });
  /** Ages a claim as if the worker had taken it `minutes` ago. */
  const ageClaim = (id: number, minutes: number) => sql`update tasks set claimed_at = now() - make_interval(mins => ${minutes}) where id = ${id}`;

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
    await visible(page.getByRole("navigation").getByText("Operación"));
  });

  it("offers Nueva tarea on an empty board, creates an interactive task and dispatches it", async () => {
    await nav("Tareas").click();
    await heading("Tareas").waitFor();
    await page.getByText("Todavía no hay tareas en este workspace.").waitFor();
    await page.locator(".empty-board").getByRole("link", { name: "Nueva tarea" }).click();
    await page.getByLabel("Título").fill("E2E: revisar el despliegue");
    await page.getByLabel("Descripción").fill("Comprobar que el servicio responde tras el despliegue.");
    await page.locator("select[name=agent]").selectOption({ label: "codex" });
    await page.getByLabel("Prioridad").fill("5");
    await page.getByRole("button", { name: "Crear tarea" }).click();
    await page.waitForURL(/\/tareas\/\d+$/);
    dispatchedTaskId = Number(new URL(page.url()).pathname.split("/").pop());
    // Interactive and dispatchable: Dispatch is the primary action.
    await expect.poll(() => page.getByRole("button", { name: "Dispatch", exact: true }).getAttribute("class")).toContain("btn-primary");
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    await page.getByText("En cola para un worker.").waitFor();
    await visible(statusBadge("queued"));
    await screenshot(page, "03-task-queued");

    await rest("POST", "/tasks", { title: "E2E: preparar la demo", agent_slug: "opencode", execution: "interactive", priority: -2 });
    await nav("Tareas").click();
    const card = page.locator(".task-card", { hasText: `#${dispatchedTaskId} E2E` });
    await card.waitFor();
    await text(card).toContain("prioridad 5");
    // Eight columns in one row that scrolls sideways: every column starts at the same height.
    const tops = await page.locator(".board .board-col").evaluateAll((cols) => cols.map((c) => Math.round(c.getBoundingClientRect().top)));
    expect(tops).toHaveLength(8);
    expect(new Set(tops).size).toBe(1);
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(1);
    await screenshot(page, "02-tareas-board");
  });

  it("asks before turning dispatch on with problems, with the focus on Cancelar", async () => {
    await nav("Automatizaciones").click();
    const queued = page.locator("#queued");
    await queued.getByRole("link", { name: new RegExp(`#${dispatchedTaskId}`) }).waitFor();
    await queued.getByRole("button", { name: "¿Por qué no se despacha?" }).click();
    await queued.getByText("dispatch_enabled es false: los launchers no reciben trabajo.").waitFor();

    await text(page.getByTestId("dispatch-state")).toBe("Dispatch: desactivado");
    // By keyboard: the toggle is a real button, the confirmation takes the focus on its safe choice,
    // so a reflexive Enter changes nothing.
    await page.getByRole("button", { name: "Activar dispatch" }).press("Enter");
    const confirm = page.getByRole("alertdialog");
    await confirm.getByText("No hay ningún worker reciente").waitFor();
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Cancelar");
    await page.keyboard.press("Enter");
    await confirm.waitFor({ state: "detached" });
    expect((await rest("GET", "/settings/dispatch_enabled")).body.value).toBe("false");

    await page.getByRole("button", { name: "Activar dispatch" }).click();
    await page.getByRole("alertdialog").getByRole("button", { name: "Activar de todos modos" }).click();
    await text(page.getByTestId("dispatch-state")).toBe("Dispatch: activado");
    expect((await rest("GET", "/settings/dispatch_enabled")).body.value).toBe("true");
  });

  it("Reconciliar stale: refuses 0 minutes, leaves a fresh claim alone, shows what it will move and asks", async () => {
    expect((await heartbeat("e2e-worker-1", ["codex"])).status).toBe(200);
    const claim = await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] });
    expect(claim.body.task?.id).toBe(dispatchedTaskId);

    await page.getByRole("button", { name: "Actualizar" }).click();
    const dispatching = page.locator("#dispatching");
    const row = dispatching.getByRole("row", { name: new RegExp(`#${dispatchedTaskId}`) });
    await row.waitFor();
    await text(row).toContain("e2e-worker-1");
    await text(row).toContain("Despachando");
    const workers = page.locator("#workers");
    await text(workers.getByRole("row", { name: /e2e-worker-1/ })).toContain("reciente");
    await screenshot(page, "04-automatizaciones-dispatching");

    const watchdog = page.locator("#watchdog");
    const minutes = watchdog.getByLabel("Minutos");
    await expect.poll(() => minutes.inputValue()).toBe("20");
    await minutes.fill("0");
    await watchdog.getByText("Escribe un número entero de minutos entre 1 y 10080.").waitFor();
    expect(await watchdog.getByRole("button", { name: "Reconciliar stale" }).isDisabled()).toBe(true);
    // One minute: the claim is seconds old, so nothing is taken from the live worker.
    await minutes.fill("1");
    await watchdog.getByRole("button", { name: "Reconciliar stale" }).click();
    await text(page.getByTestId("reconcile-result")).toBe("Con 1 min ninguna tarea está stale: nada que reconciliar.");
    expect((await rest("GET", `/tasks/${dispatchedTaskId}`)).body.status).toBe("dispatching");

    await ageClaim(dispatchedTaskId, 30);
    await minutes.fill("20");
    await watchdog.getByRole("button", { name: "Reconciliar stale" }).click();
    const confirm = watchdog.getByRole("alertdialog");
    await text(confirm).toContain("Se moverá 1 tarea a En espera, bloqueadas, con 20 min:");
    await text(confirm.getByTestId("reconcile-preview")).toContain("su worker sigue vivo");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Cancelar");
    await confirm.getByRole("button", { name: "Reconciliar 1 tarea" }).click();
    const result = page.getByTestId("reconcile-result");
    await text(result).toContain("Reconciliada 1 tarea con 20 min.");
    await visible(result.getByRole("link", { name: `#${dispatchedTaskId}` }));
    await visible(dispatching.getByText("Ninguna tarea despachándose ni en curso."));

    const alerts = page.locator("#alerts");
    const alertRow = alerts.getByRole("row", { name: new RegExp(`#${dispatchedTaskId}`) });
    await alertRow.waitFor();
    await text(alertRow).toContain("Dispatch atascado");
    await text(alertRow).toContain("Dispatch atascado: más de 20 min en dispatching (worker e2e-worker-1).");
    await text(alertRow.locator("td.num")).toBe("1");
    await screenshot(page, "05-automatizaciones-watchdog-alert");

    await alertRow.getByRole("button", { name: /Resolver/ }).click();
    await alerts.getByText("No hay alertas abiertas.").waitFor();
    expect((await rest("GET", "/alerts?status=open")).body).toEqual([]);

    // The task carries the watchdog's blocker for the operator to review: said once, in words.
    await page.getByTestId("reconcile-result").getByRole("link", { name: `#${dispatchedTaskId}`, exact: true }).click();
    await page.getByTestId("blocked-banner").waitFor();
    await visible(statusBadge("waiting"));
    const said = "Dispatch atascado: más de 20 min en dispatching (worker e2e-worker-1).";
    await expect.poll(async () => (await visibleText(page)).split(said).length - 1).toBe(1);
    expect(await visibleText(page)).not.toContain("stale dispatch: in dispatching");
    await page.getByTestId("blocked-banner").getByText("Texto guardado").click();
    await visible(page.getByTestId("blocked-banner").getByText("stale dispatch: in dispatching for more than 20 min (worker e2e-worker-1)"));
    await screenshot(page, "06-task-blocker-history");
  });

  it("highlights a task stale in dispatching and reconciles it with the minutes shown", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: tarea que se queda en dispatching", agent_slug: "codex", execution: "interactive" });
    const id = created.body.id as number;
    expect((await rest("POST", `/tasks/${id}/dispatch`)).body.status).toBe("queued");
    await heartbeat("e2e-worker-1", ["codex"]);
    expect((await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] })).body.task?.id).toBe(id);
    await ageClaim(id, 25);

    await nav("Automatizaciones").click();
    const row = page.locator("#dispatching tr.row-stale", { hasText: `#${id}` });
    await row.waitFor();
    await text(row).toContain("STALE");
    await text(page.getByTestId("health-ok")).toBe("Con problemas");
    await visible(page.getByText(/Hay 1 tarea atascada en vuelo/));
    await screenshot(page, "05a-automatizaciones-stale");

    const watchdog = page.locator("#watchdog");
    await expect.poll(() => watchdog.getByLabel("Minutos").inputValue()).toBe("20");
    await watchdog.getByRole("button", { name: "Reconciliar stale" }).click();
    await watchdog.getByRole("alertdialog").getByRole("button", { name: "Reconciliar 1 tarea" }).click();
    await text(page.getByTestId("reconcile-result")).toContain("Reconciliada 1 tarea con 20 min.");
    await row.waitFor({ state: "detached" });
    await page.locator("#alerts").getByRole("row", { name: new RegExp(`#${id}`) }).waitFor();
    expect((await rest("GET", `/tasks/${id}`)).body).toMatchObject({ status: "waiting", blocked: true });
  });

  it("follows a run live on the task page (queued → dispatching → doing → review) and closes its failure alert when it succeeds", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: ejecución en vivo", agent_slug: "codex", execution: "interactive", priority: 50 });
    const id = created.body.id as number;
    const run = async () => {
      expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
      const claim = await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] });
      expect(claim.body.task?.id).toBe(id);
      return claim.body.attempt as number;
    };
    const first = await run();
    await rest("POST", `/dispatch/tasks/${id}/failed`, { worker_id: "e2e-worker-1", attempt: first, reason: "launcher process exited early (code=1, signal=null)" });
    await rest("PATCH", `/tasks/${id}`, { blocked: false });
    expect((await rest("GET", "/alerts?status=open")).body.map((a: { task_id: number }) => a.task_id)).toContain(id);

    expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
    await page.goto(`${api.baseUrl}/tareas/${id}`);
    await visible(statusBadge("queued"));
    await page.getByTestId("live").waitFor();
    // A live task refreshes every 1.5 s (it used to be 10 s, so a short run's doing was never seen):
    // each step below must show well within the old interval, without a reload.
    const live = { timeout: 6_000 };
    const claim = await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] });
    await statusBadge("dispatching").waitFor(live);
    const fence = { worker_id: "e2e-worker-1", attempt: claim.body.attempt };
    await rest("POST", `/dispatch/tasks/${id}/started`, { ...fence, pid: 99, command: ["codex", "exec"], log_path: "/tmp/e2e.log", err_log_path: "/tmp/e2e.err.log" });
    await statusBadge("doing").waitFor(live);
    // The launcher's record as readable fields: the pid it started.
    await page.getByTestId("dispatch-output").locator("div", { has: page.getByText("PID", { exact: true }) }).getByText("99", { exact: true }).waitFor(live);
    await rest("POST", `/dispatch/tasks/${id}/finished`, { ...fence, exit_code: 0, duration_ms: 1200 });
    await statusBadge("review").waitFor(live);
    // In review the primary action closes the task.
    await expect.poll(() => page.getByRole("button", { name: "Cerrar: marcar como hecha" }).getAttribute("class")).toContain("btn-primary");
    const alerts = (await rest("GET", "/alerts?status=all")).body.filter((a: { task_id: number }) => a.task_id === id);
    expect(alerts).toEqual([expect.objectContaining({ kind: "dispatch_failed", status: "resolved", resolved_by: "system:run-succeeded" })]);
  });

  it("turns dispatch off again", async () => {
    await nav("Automatizaciones").click();
    await page.getByRole("button", { name: "Desactivar dispatch" }).click();
    await text(page.getByTestId("dispatch-state")).toBe("Dispatch: desactivado");
    expect((await rest("GET", "/settings/dispatch_enabled")).body.value).toBe("false");
  });

  it("refuses to mark an AI task done without evidence, in plain words; sensible defaults", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: tarea de IA sin entregable", agent_slug: "codex", execution: "interactive" });
    expect(created.status).toBe(200);
    const id = created.body.id as number;
    await page.goto(`${api.baseUrl}/tareas/${id}`);
    await heading(new RegExp(`#${id}`)).waitFor();
    // A backlog task is offered its next step, not done; a new context entry is a note.
    expect(await page.getByLabel("Nuevo estado").inputValue()).toBe("next");
    expect(await page.locator("#context select").inputValue()).toBe("note");
    await page.getByLabel("Nuevo estado").selectOption("done");
    await page.getByRole("button", { name: "Aplicar" }).click();
    const refusal = page.locator(".status-changer [role=alert]");
    await text(refusal).toContain("No se puede marcar como hecha: esta tarea de IA no tiene ningún entregable visible");
    expect(await refusal.innerText()).not.toContain("force=true");
    await visible(refusal.getByRole("button", { name: /Forzar/ }));
    await screenshot(page, "07-task-done-guard");
    expect((await rest("GET", `/tasks/${id}`)).body.status).toBe("backlog");

    // With a visible deliverable the same change goes through.
    await page.getByLabel("Comentario", { exact: true }).fill("Entregable: informe en el contexto.");
    await page.locator("#comments").getByRole("button", { name: "Añadir" }).click();
    await page.locator("#comments").getByText("Entregable: informe en el contexto.").waitFor();
    await page.getByLabel("Nuevo estado").selectOption("done");
    await page.getByRole("button", { name: "Aplicar" }).click();
    await visible(statusBadge("done"));
  });

  it("puts Approve first while the Human Gate holds a sensitive task, then dispatches it", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: cambio sensible", agent_slug: "codex", execution: "interactive", sensitive: true });
    const id = created.body.id as number;
    await page.goto(`${api.baseUrl}/tareas/${id}`);
    await heading(new RegExp(`#${id}`)).waitFor();
    const approve = page.getByRole("button", { name: "Aprobar (Human Gate)" });
    await expect.poll(() => approve.getAttribute("class")).toContain("btn-primary");
    expect(await page.getByRole("button", { name: "Dispatch", exact: true }).getAttribute("class")).not.toContain("btn-primary");
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    await text(page.locator("#actions [role=alert]")).toContain("Human Gate: la tarea es sensible y necesita la aprobación de un admin");
    await visible(page.locator(".page-head .badge", { hasText: "bloqueada" }));
    await approve.click();
    await approve.waitFor({ state: "detached" });
    await text(page.locator("#details")).toContain("Aprobada por user:admin");
    await page.getByRole("button", { name: "Dispatch", exact: true }).click();
    await page.getByText("En cola para un worker.").waitFor();
    expect((await rest("GET", `/tasks/${id}`)).body).toMatchObject({ status: "queued", blocked: false });
  });

  it("says why a manual task (the REST default) has no Dispatch, and makes it interactive", async () => {
    const created = await rest("POST", "/tasks", { title: "E2E: tarea creada por curl", agent_slug: "codex" });
    expect(created.body.execution).toBe("manual");
    await page.goto(`${api.baseUrl}/tareas/${created.body.id}`);
    await page.getByTestId("manual-note").getByText(/Tarea manual: ningún launcher la ejecuta/).waitFor();
    expect(await page.getByRole("button", { name: "Dispatch", exact: true }).count()).toBe(0);
    await page.getByTestId("manual-note").getByRole("button", { name: "Hacer interactiva" }).click();
    await visible(page.getByRole("button", { name: "Dispatch", exact: true }));
  });

  it("shows agents read-only until Editar, with the workers that run them, and refuses deleting one in use", async () => {
    await heartbeat("e2e-worker-1", ["codex"]);
    await nav("Agentes").click();
    const codex = page.locator("[data-agent=codex]");
    await text(codex).toContain("e2e-worker-1");
    await text(codex).toContain("Ejemplo: codex exec");
    expect(await codex.locator("input").count()).toBe(0);
    await codex.getByRole("button", { name: "Editar: codex" }).click();
    await codex.getByLabel("Comando de lanzamiento").fill("codex exec --full-auto {prompt}");
    await codex.getByRole("button", { name: "Guardar" }).click();
    await codex.getByText("Guardado.").waitFor();
    const agents = await rest("GET", "/agents");
    expect(agents.body.find((a: { slug: string }) => a.slug === "codex").launch_command).toBe("codex exec --full-auto {prompt}");

    await codex.getByRole("button", { name: "Eliminar: codex" }).click();
    await codex.getByRole("alertdialog").getByRole("button", { name: "Eliminar" }).click();
    await text(codex.locator("[role=alert]")).toContain("Hay tareas abiertas que usan este agente");
    expect((await rest("GET", "/agents")).body.map((a: { slug: string }) => a.slug)).toContain("codex");
    await codex.getByRole("alertdialog").getByRole("button", { name: "Cancelar" }).click();
    await screenshot(page, "08-agentes");
  });

  it("reloads once when a page's chunk is gone (the server was updated while the tab was open)", async () => {
    let refused = 0;
    await page.route(/\/assets\/AccountPage-[^/]+\.js$/, async (route) => {
      if (refused++ === 0) return route.fulfill({ status: 404, body: "" });
      return route.continue();
    });
    await page.locator(".user-menu > summary").click();
    await page.getByRole("link", { name: "Mi cuenta" }).click();
    await heading("Mi cuenta").waitFor();
    expect(refused).toBe(2);
    await page.unrouteAll();
  });

  it("Ajustes: validates as the API does, says saved, refuses unknown agent slugs, and asks the same as Automatizaciones", async () => {
    await nav("Ajustes").click();
    const stale = page.getByRole("region", { name: "dispatch_stale_minutes" });
    await text(stale).toContain("Una tarea en dispatching más de estos minutos la reconcilia el watchdog.");
    await stale.getByLabel("Valor").fill("0");
    await text(stale.getByRole("alert")).toBe("dispatch_stale_minutes debe ser un número entero entre 1 y 10080.");
    await expect.poll(() => stale.getByRole("button", { name: "Guardar" }).isDisabled()).toBe(true);
    await screenshot(page, "09-ajustes-validation");
    await stale.getByLabel("Valor").fill("25");
    await stale.getByRole("button", { name: "Guardar" }).click();
    await text(stale.getByTestId("value-dispatch_stale_minutes")).toBe("25");
    await stale.getByText("Guardado.").waitFor();

    const caps = page.getByRole("region", { name: "dispatch_agent_caps" });
    await caps.getByLabel("Valor").fill('{"nope":2}');
    await caps.getByRole("button", { name: "Guardar" }).click();
    await text(caps.locator(".error-box")).toContain("dispatch_agent_caps nombra agentes que no existen: nope.");
    expect((await rest("GET", "/settings/dispatch_agent_caps")).body.value).toBe("{}");

    // The same switch and the same question as in Automatizaciones (no fresh worker now).
    expect((await rest("DELETE", "/dispatch/workers/e2e-worker-1")).status).toBe(200);
    await page.reload();
    const enabled = page.getByRole("region", { name: "dispatch_enabled" });
    await enabled.getByRole("button", { name: "Activar dispatch" }).click();
    await enabled.getByRole("alertdialog").getByText("No hay ningún worker reciente: las tareas quedarán en cola.").waitFor();
    await enabled.getByRole("alertdialog").getByRole("button", { name: "Cancelar" }).click();
    expect((await rest("GET", "/settings/dispatch_enabled")).body.value).toBe("false");

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

  it("speaks English on request, Reconcile stale included", async () => {
    await page.getByLabel("Idioma").selectOption("en");
    await nav("Automations").click();
    await heading("Automations").waitFor();
    await visible(page.getByRole("button", { name: "Reconcile stale" }));
    expect(await visibleText(page)).not.toContain("Reconciliar");
    await screenshot(page, "11-automations-english");
    await page.getByLabel("Language").selectOption("es");
    await heading("Automatizaciones").waitFor();
  });

  it("fits a 390 px window: nothing scrolls sideways, the header is short, Resolver is on screen", async () => {
    // An open alert with a long reason, for the alerts table to prove itself.
    const created = await rest("POST", "/tasks", { title: "E2E: alerta en pantalla estrecha", agent_slug: "codex", execution: "interactive", priority: 100 });
    await rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    await heartbeat("e2e-worker-1", ["codex"]);
    await rest("POST", `/tasks/${created.body.id}/dispatch`);
    const claim = await rest("POST", "/dispatch/next", { worker_id: "e2e-worker-1", agent_slugs: ["codex"] });
    await rest("POST", `/dispatch/tasks/${created.body.id}/failed`, {
      worker_id: "e2e-worker-1",
      attempt: claim.body.attempt,
      reason: "runtime no disponible en host: codex-with-a-rather-long-binary-name-that-does-not-break",
    });
    await rest("PUT", "/settings/dispatch_enabled", { value: "false" });

    await page.setViewportSize({ width: 390, height: 844 });
    await page.reload();
    await heading("Automatizaciones").waitFor();
    const alertRow = page.locator("#alerts").getByRole("row", { name: new RegExp(`#${created.body.id}`) });
    await alertRow.waitFor();
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(1);
    const header = await page.locator("header.topbar").boundingBox();
    expect(header!.height).toBeLessThan(100);
    const resolve = await alertRow.getByRole("button", { name: /Resolver/ }).boundingBox();
    expect(resolve!.x + resolve!.width).toBeLessThanOrEqual(390);
    // The alert's kind reads as words on one line, not a letter per line.
    const kind = await alertRow.locator("[data-label] .badge").first().boundingBox();
    expect(kind!.height).toBeLessThan(30);
    await screenshot(page, "12-automatizaciones-narrow");
    await nav("Tareas").click();
    await page.locator(".board .task-card").first().waitFor();
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(1);
    await page.locator(".board .task-card a").first().click();
    await page.locator("#details").waitFor();
    expect(await sidewaysOverflow(page)).toBeLessThanOrEqual(1);
    await page.setViewportSize({ width: 1280, height: 900 });
  });

  it("signs out from the user menu", async () => {
    await page.locator(".user-menu > summary").click();
    await page.getByRole("button", { name: "Cerrar sesión" }).click();
    await heading(/Iniciar sesión/).waitFor();
    const me = await page.evaluate(async () => (await fetch("/trpc/auth.me")).status);
    expect(me).toBe(401);
  });

  it("ran without CSP violations or page errors", () => {
    expect(stack.problems).toEqual([]);
  });
});

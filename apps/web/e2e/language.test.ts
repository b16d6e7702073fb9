import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { SpawnedApi } from "../../../tests/support/spawn-api.ts";
import { en } from "../src/i18n/en.ts";
import { es } from "../src/i18n/es.ts";
import { type BrowserStack, screenshot, signIn, startStack, visibleText, visibleWords } from "./support.ts";

// One language at a time, against a real API with every kind of problem
// present: walking the main pages in Spanish shows none of the English the
// API answered with (problems, reasons, settings, refusals, blocked reasons,
// alerts); walking them in English shows none of the Spanish labels.

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are read field by field
type Body = any;

describe("one language at a time in Chromium", () => {
  let stack: BrowserStack;
  let api: SpawnedApi;
  let page: Page;
  let rest: BrowserStack["rest"];
  /** Everything the API said in English that a person could be shown. */
  const english = new Set<string>();
  const tasks: Record<string, number> = {};

  beforeAll(async () => {
    stack = await startStack("lang");
    ({ api, page, rest } = stack);
    const { sql } = stack;

    // Problems of every kind: dispatch on with agents no worker runs, a stale claim, a failed run,
    // a task held at the Human Gate, a cancelled one, a manual one, and refused values.
    const create = async (name: string, fields: Record<string, unknown>) => {
      tasks[name] = (await rest("POST", "/tasks", { title: `Language check: ${name}`, ...fields })).body.id;
    };
    await rest("PUT", "/settings/dispatch_enabled", { value: "true" });
    await rest("POST", "/dispatch/heartbeat", { worker_id: "lang-w1", hostname: "lang-host", pid: 1, version: "e2e", agent_slugs: ["codex"], free_slots: 1 });
    await create("failed", { agent_slug: "codex", execution: "interactive", priority: 5 });
    await rest("POST", `/tasks/${tasks.failed}/dispatch`);
    const claim = await rest("POST", "/dispatch/next", { worker_id: "lang-w1", agent_slugs: ["codex"] });
    await rest("POST", `/dispatch/tasks/${tasks.failed}/failed`, { worker_id: "lang-w1", attempt: claim.body.attempt, reason: "runtime no disponible en host: codex" });
    // Claimed last and aged after: the next claim would reconcile it (dispatch/next runs the watchdog when it sees stale work).
    await create("stale", { agent_slug: "codex", execution: "interactive", priority: 10 });
    await rest("POST", `/tasks/${tasks.stale}/dispatch`);
    await rest("POST", "/dispatch/next", { worker_id: "lang-w1", agent_slugs: ["codex"] });
    await sql`update tasks set claimed_at = now() - interval '40 minutes' where id = ${tasks.stale!}`;
    await create("gate", { agent_slug: "codex", execution: "interactive", sensitive: true });
    english.add((await rest("POST", `/tasks/${tasks.gate}/dispatch`)).body.error.message);
    await create("queued", { agent_slug: "hermes", execution: "interactive" });
    await rest("POST", `/tasks/${tasks.queued}/dispatch`);
    await create("cancelled", { agent_slug: "hermes", execution: "interactive" });
    await rest("POST", `/tasks/${tasks.cancelled}/dispatch`);
    await rest("POST", `/tasks/${tasks.cancelled}/cancel`);
    await create("manual", { agent_slug: "codex" });
    english.add((await rest("PATCH", `/tasks/${tasks.manual}/status`, { status: "done" })).body.error.message);

    const health = (await rest("GET", "/dispatch/health")).body;
    expect(health.problems.map((p: Body) => p.code).sort()).toEqual(["AGENT_NOT_COVERED", "STALE_DISPATCHING", "WORKER_USES_SERVICE_TOKEN"]);
    for (const p of health.problems) english.add(p.message);
    for (const id of Object.values(tasks)) {
      for (const r of (await rest("GET", `/tasks/${id}/dispatch-explanation`)).body.reasons) english.add(r.message);
      const task = (await rest("GET", `/tasks/${id}`)).body;
      // The Human Gate's sentence is the runbook's: stored as data, shown translated (the stored text one click away).
      if (task.blocked_reason) english.add(task.blocked_reason);
    }
    for (const a of (await rest("GET", "/alerts")).body) english.add(a.message);
    for (const s of (await rest("GET", "/settings")).body) english.add(s.description);
    english.add((await rest("PUT", "/settings/dispatch_agent_caps", { value: '{"nope":2}' })).body.error.message);
    english.add((await rest("PUT", "/settings/dispatch_stale_minutes", { value: "0" })).body.error.message);
    english.add((await rest("POST", "/dispatch/reconcile-stale", { minutes: 0 })).body.error.message);
  });

  afterAll(async () => stack?.close());

  /** What the page shows now, checked against every English sentence the API answered with. */
  async function noEnglishFromTheApi(where: string) {
    await page.waitForFunction(() => !document.querySelector(".state-loading"));
    const shown = await visibleWords(page);
    const leaked = [...english].filter((sentence) => sentence && shown.includes(sentence));
    expect(leaked, `${where} shows the API's English`).toEqual([]);
    return shown;
  }

  it("has English to look for", () => {
    expect(english.size).toBeGreaterThan(15);
  });

  it("in Spanish, no page shows the API's English", async () => {
    await signIn(page, api.baseUrl, api.adminUser, api.adminPassword);
    await page.goto(`${api.baseUrl}/operacion/automatizaciones`);
    await page.locator("#health .problems").waitFor();
    // The queue section loads on its own: wait for it before collecting its buttons, or there may be none yet.
    const why = page.getByRole("button", { name: "¿Por qué no se despacha?" });
    await why.first().waitFor();
    for (const button of await why.all()) await button.click();
    await page.locator("#queued .explain li").first().waitFor();
    await page.locator("#alerts").getByText("Runtime no disponible en el host: codex.").waitFor();
    const automations = await noEnglishFromTheApi("Automatizaciones");
    expect(automations).toContain("Agentes activos que ningún worker reciente puede ejecutar:");
    expect(automations).toContain("Runtime no disponible en el host: codex.");
    expect(automations).not.toContain("Reconcile stale");
    await screenshot(page, "17-automatizaciones-problemas");

    for (const [name, id] of Object.entries(tasks)) {
      await page.goto(`${api.baseUrl}/tareas/${id}`);
      await page.locator("#details").waitFor();
      await noEnglishFromTheApi(`task ${name}`);
    }
    // A refusal the page provokes: the done guard.
    await page.goto(`${api.baseUrl}/tareas/${tasks.manual}`);
    await page.getByLabel("Nuevo estado").selectOption("done");
    await page.getByRole("button", { name: "Aplicar" }).click();
    await page.locator(".status-changer [role=alert]").waitFor();
    await noEnglishFromTheApi("done guard");

    await page.goto(`${api.baseUrl}/ajustes`);
    const caps = page.getByRole("region", { name: "dispatch_agent_caps" });
    await caps.getByLabel("Valor").fill('{"nope":2}');
    await caps.getByRole("button", { name: "Guardar" }).click();
    await caps.locator(".error-box").waitFor();
    await page.getByRole("region", { name: "dispatch_stale_minutes" }).getByLabel("Valor").fill("0");
    await noEnglishFromTheApi("Ajustes");

    for (const path of ["/tareas", "/agentes", "/personas", "/operacion/puesta-en-marcha", "/cuenta"]) {
      await page.goto(`${api.baseUrl}${path}`);
      await page.locator("main h1").waitFor();
      await noEnglishFromTheApi(path);
    }
  });

  it("in English, no page shows the Spanish labels", async () => {
    // The catalogue entries that differ between the languages, long enough to mean something on their own.
    const spanishOnly = (Object.keys(es) as (keyof typeof es)[])
      .map((key) => [es[key], en[key]] as const)
      .filter(([spanish, english]) => spanish !== english && spanish.length >= 12 && !/\{/.test(spanish))
      .map(([spanish]) => spanish);
    await page.getByLabel("Idioma").selectOption("en");
    for (const path of ["/operacion/automatizaciones", `/tareas/${tasks.stale}`, `/tareas/${tasks.gate}`, "/tareas", "/agentes", "/ajustes", "/personas", "/operacion/puesta-en-marcha"]) {
      await page.goto(`${api.baseUrl}${path}`);
      await page.locator("main h1").waitFor();
      await page.waitForFunction(() => !document.querySelector(".state-loading"));
      const shown = await visibleText(page);
      expect(spanishOnly.filter((label) => shown.includes(label)), `${path} in English`).toEqual([]);
      expect(shown, path).not.toContain("Reconciliar");
    }
    await page.goto(`${api.baseUrl}/operacion/automatizaciones`);
    await page.getByRole("button", { name: "Reconcile stale" }).waitFor();
    await page.locator("#alerts").getByText("Runtime not available on the host: codex.").waitFor();
    await page.getByLabel("Language").selectOption("es");
  });

  it("ran without CSP violations or page errors", () => {
    expect(stack.problems).toEqual([]);
  });
});

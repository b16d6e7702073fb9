import type { Locator, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BrowserStack, screenshot, signIn, startStack } from "./support.ts";

// Issue 12: the Workers table of Operación → Automatizaciones with a fleet
// (120 workers here): a page at a time, the next page, only the stale ones,
// by agent, with the filters in the URL, against the real API in Chromium.
describe("the Workers table with a fleet", () => {
  let stack: BrowserStack;
  let page: Page;
  let workers: Locator;

  const pad = (i: number) => `vm-${String(i).padStart(4, "0")}`;
  const rowIds = async () =>
    (await workers.locator("tbody tr td:first-child").allInnerTexts()).map((id) => id.trim());
  const counter = () => workers.getByRole("status");
  const poll = <T>(fn: () => Promise<T>) => expect.poll(fn, { timeout: 30_000 });

  beforeAll(async () => {
    stack = await startStack("workers");
    page = stack.page;
    page.setDefaultTimeout(30_000);
    // Every third worker last seen 10 minutes ago (stale); odd ids run codex, even ones opencode.
    await stack.sql`insert into worker_heartbeats (worker_id, hostname, pid, version, agent_slugs, models, running_task_ids, free_slots, last_seen_at)
      select 'vm-' || lpad(i::text, 4, '0'), 'host-' || i, i, 'e2e',
             case when i % 2 = 1 then array['codex'] else array['opencode'] end, '{}', '{}', 1,
             case when i % 3 = 0 then now() - interval '10 minutes' else now() end
      from generate_series(1, 120) i`;
    await signIn(page, stack.api.baseUrl, stack.api.adminUser, stack.api.adminPassword);
    await page.goto(`${stack.api.baseUrl}/operacion/automatizaciones`);
    workers = page.locator("#workers");
  });
  afterAll(async () => stack?.close());

  it("shows the first page of 50 with the exact total, and the next page", async () => {
    await poll(() => counter().innerText()).toBe("50 de 120 workers");
    expect(await rowIds()).toEqual(Array.from({ length: 50 }, (_, i) => pad(i + 1)));
    // The health summary counts the whole fleet.
    const total = page.locator(".stat", { hasText: "Workers en total" }).locator("dd");
    expect(await total.innerText()).toBe("120");
    expect(await page.locator(".stat", { hasText: "Workers caducados" }).locator("dd").innerText()).toBe("40");
    await screenshot(page, "15-automatizaciones-workers-page");

    await workers.getByRole("button", { name: "Siguiente" }).click();
    await poll(rowIds).toEqual(Array.from({ length: 50 }, (_, i) => pad(i + 51)));
    expect(new URL(page.url()).searchParams.get("workers_after")).toBe("vm-0050");
    await workers.getByRole("button", { name: "Siguiente" }).click();
    await poll(rowIds).toEqual(Array.from({ length: 20 }, (_, i) => pad(i + 101)));
    await poll(() => counter().innerText()).toBe("20 de 120 workers");
    expect(await workers.getByRole("button", { name: "Siguiente" }).isDisabled()).toBe(true);
    await workers.getByRole("button", { name: "Anterior" }).click();
    await poll(rowIds).toEqual(Array.from({ length: 50 }, (_, i) => pad(i + 51)));
    await workers.getByRole("button", { name: "Anterior" }).click();
    await poll(rowIds).toEqual(Array.from({ length: 50 }, (_, i) => pad(i + 1)));
    expect(await workers.getByRole("button", { name: "Anterior" }).isDisabled()).toBe(true);
  });

  it("shows only the stale workers, then only those running an agent, and keeps the filters in the URL", async () => {
    await workers.getByLabel("Solo caducados").check();
    await poll(() => counter().innerText()).toBe("40 de 40 workers");
    const stale = await rowIds();
    expect(stale).toEqual(Array.from({ length: 40 }, (_, i) => pad(3 * (i + 1))));
    expect(await workers.locator("tbody tr.row-stale").count()).toBe(40);
    expect(new URL(page.url()).searchParams.get("workers_stale")).toBe("1");

    await workers.getByLabel("Agente").selectOption("codex");
    // Odd multiples of 3: 3, 9, …, 117.
    await poll(() => counter().innerText()).toBe("20 de 20 workers");
    expect(await rowIds()).toEqual(Array.from({ length: 20 }, (_, i) => pad(6 * i + 3)));
    expect(new URL(page.url()).searchParams.get("workers_agent")).toBe("codex");

    // A reload (or a shared link) shows the same view.
    await page.reload();
    await poll(() => page.locator("#workers").getByRole("status").innerText()).toBe("20 de 20 workers");
    expect(await page.locator("#workers").getByLabel("Solo caducados").isChecked()).toBe(true);

    await workers.getByLabel("Solo caducados").uncheck();
    await poll(() => counter().innerText()).toBe("50 de 60 workers");
    const codex = await rowIds();
    expect(codex.slice(0, 3)).toEqual(["vm-0001", "vm-0003", "vm-0005"]);
    await screenshot(page, "16-automatizaciones-workers-filtered");

    await workers.getByLabel("Agente").selectOption("");
    await poll(() => counter().innerText()).toBe("50 de 120 workers");
    const url = new URL(page.url());
    expect([url.searchParams.get("workers_stale"), url.searchParams.get("workers_agent")]).toEqual([null, null]);
  });

  it("shows no problem in the page's console", () => {
    expect(stack.problems).toEqual([]);
  });
});

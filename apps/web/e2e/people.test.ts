import type { Browser, BrowserContext, CDPSession, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { restClient, type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { ensureWebBuilt, launchChromium, openPage, screenshot, signIn, visibleText } from "./support.ts";

// A fresh `pnpm start` as a newcomer meets it: generated credentials, a
// first-run page that makes the server healthy, then a team — a workspace
// admin and a member who each see what the policy lets them do. And how fast
// the first page paints on a cold load.
describe("first run, people and roles in Chromium", () => {
  let api: SpawnedApi;
  let browser: Browser;
  let admin: BrowserContext;
  let page: Page;
  let problems: string[];
  let generated: { password: string; token: string };
  let serviceToken = "";
  const rest = () => restClient(api.apiBase, { "X-OPS-Service-Token": serviceToken });

  beforeAll(async () => {
    browser = await launchChromium();
    ensureWebBuilt();
    // No credentials in the env: the first start generates them and prints them once.
    api = await spawnApi({ env: { OPS_ADMIN_USER: "", OPS_ADMIN_PASSWORD: "", OPS_SERVICE_TOKEN: "" } });
    const printed = api.output();
    generated = {
      password: /admin password:\s+(\S+)/.exec(printed)![1]!,
      token: /service token:\s+(\S+)/.exec(printed)![1]!,
    };
    serviceToken = generated.token;
    ({ context: admin, page, problems } = await openPage(browser));
  });

  afterAll(async () => {
    await admin?.close();
    await browser?.close();
    await api?.stop();
  });

  /**
   * A cold load (no cache) under 4× CPU throttling, optionally on a slow
   * network (1.6 Mb/s, 150 ms): the JavaScript and CSS requested, the bytes on
   * the wire until `ready` is visible, and when (page clock).
   */
  async function coldLoad(context: BrowserContext, url: string, ready: (p: Page) => Promise<unknown>, slowNetwork = false) {
    const cold = await context.newPage();
    const cdp: CDPSession = await context.newCDPSession(cold);
    await cdp.send("Network.enable");
    await cdp.send("Network.setCacheDisabled", { cacheDisabled: true });
    await cdp.send("Emulation.setCPUThrottlingRate", { rate: 4 });
    if (slowNetwork) {
      await cdp.send("Network.emulateNetworkConditions", { offline: false, latency: 150, downloadThroughput: 200_000, uploadThroughput: 96_000 });
    }
    let bytes = 0;
    const urls = new Map<string, string>();
    cdp.on("Network.requestWillBeSent", (e) => urls.set(e.requestId, e.request.url));
    cdp.on("Network.loadingFinished", (e) => {
      bytes += e.encodedDataLength;
    });
    await cold.goto(url);
    await ready(cold);
    const paintedAt = await cold.evaluate(() => performance.now());
    const figures = { bytes, ms: Math.round(paintedAt), assets: [...urls.values()].filter((u) => /\.(js|css)$/.test(u)).map((u) => u.split("/").pop()!) };
    await cdp.detach();
    await cold.close();
    return figures;
  }

  it("paints the sign-in form from the first chunk alone, and Automatizaciones without the other pages (figures printed)", async () => {
    const signInLoad = await coldLoad(admin, `${api.baseUrl}/`, (p) => p.locator("input[name=username]").waitFor());
    console.log(`[bundle] sign-in form visible after ${signInLoad.bytes} bytes on the wire, ${signInLoad.ms} ms at 4x CPU throttling; assets: ${signInLoad.assets.join(", ")}`);
    expect(signInLoad.assets.filter((a) => a.endsWith(".js"))).toEqual([expect.stringMatching(/^index-.*\.js$/)]);
    const slow = await coldLoad(admin, `${api.baseUrl}/`, (p) => p.locator("input[name=username]").waitFor(), true);
    console.log(`[bundle] sign-in form visible after ${slow.ms} ms on a 1.6 Mb/s, 150 ms network at 4x CPU throttling`);

    await signIn(page, api.baseUrl, "admin", generated.password);
    const automations = await coldLoad(admin, `${api.baseUrl}/operacion/automatizaciones`, (p) =>
      p.getByRole("heading", { name: "Automatizaciones", exact: true }).waitFor(),
    );
    console.log(`[bundle] Automatizaciones visible after ${automations.bytes} bytes on the wire, ${automations.ms} ms at 4x CPU throttling; assets: ${automations.assets.join(", ")}`);
    const pages = automations.assets.filter((a) => /Page-/.test(a));
    expect(pages).toEqual([expect.stringMatching(/^AutomationsPage-/)]);
  });

  it("first run: the generated password and token are replaced in the app, agents chosen, the launcher command given; health becomes OK", async () => {
    await page.goto(`${api.baseUrl}/operacion/automatizaciones`);
    await page.getByTestId("health-ok").getByText("Con problemas").waitFor();
    await page.getByText(/Se usan credenciales generadas en el primer arranque \(el service token y la contraseña del admin\)/).waitFor();
    await page.getByRole("note").getByRole("link", { name: "Ir a Puesta en marcha" }).click();
    await page.getByRole("heading", { name: "Puesta en marcha" }).waitFor();

    const password = page.locator("#setup-password");
    await password.getByLabel("Contraseña actual").fill(generated.password);
    await password.getByLabel("Nueva contraseña", { exact: true }).fill("short");
    await password.getByText("Al menos 12 caracteres.").waitFor();
    await password.getByLabel("Nueva contraseña", { exact: true }).fill("the-team-chose-this-one");
    await password.getByLabel("Repite la nueva contraseña").fill("the-team-chose-this-one");
    await password.getByRole("button", { name: "Cambiar mi contraseña" }).click();
    await password.getByText("Hecho").waitFor();

    const token = page.locator("#setup-token");
    await token.getByRole("button", { name: "Rotar service token" }).click();
    await token.getByRole("alertdialog").getByRole("button", { name: "Rotar service token" }).click();
    serviceToken = await token.getByTestId("new-token").inputValue();
    expect(serviceToken).not.toBe(generated.token);
    await screenshot(page, "13-puesta-en-marcha-token", [token.getByTestId("new-token")]);
    await token.getByRole("button", { name: "Ya lo he copiado" }).click();
    await token.getByText("Hecho").waitFor();

    // A worker that runs codex and opencode only: claudecode and hermes are switched off here.
    expect((await rest()("POST", "/dispatch/heartbeat", { worker_id: "vm-1", hostname: "vm-1", pid: 1, version: "e2e", agent_slugs: ["codex", "opencode"], free_slots: 2 })).status).toBe(200);
    const agents = page.locator("#setup-agents");
    await agents.getByText("lo ejecutan: vm-1").first().waitFor();
    await agents.getByRole("checkbox", { name: /claudecode/ }).uncheck();
    await agents.getByRole("checkbox", { name: /hermes/ }).uncheck();
    await agents.getByRole("button", { name: "Guardar agentes activos" }).click();
    await agents.getByText("Hecho").waitFor();

    // Before a worker token is issued the command carries placeholders, never the service token.
    const launcher = page.locator("#setup-launcher");
    expect(await page.getByTestId("launcher-command").innerText()).toBe(
      `OPS_API_BASE=${api.baseUrl}/api OPS_WORKER_ID=<worker-id> OPS_WORKER_TOKEN='<worker-token>' SUPPORTED_AGENT_SLUGS=codex,opencode pnpm launcher`,
    );
    await launcher.getByLabel("Worker id").fill("vm-2-launcher");
    await launcher.getByRole("button", { name: "Emitir el worker token de este launcher" }).click();
    await launcher.getByText("Worker token emitido para vm-2-launcher (toda la instancia).").waitFor();
    const command = await page.getByTestId("launcher-command").innerText();
    const workerToken = /OPS_WORKER_TOKEN='(opsw_[^']+)'/.exec(command)?.[1] ?? "";
    expect(command).toBe(
      `OPS_API_BASE=${api.baseUrl}/api OPS_WORKER_ID=vm-2-launcher OPS_WORKER_TOKEN='${workerToken}' SUPPORTED_AGENT_SLUGS=codex,opencode pnpm launcher`,
    );
    // The token in the command is the launcher's own: it heartbeats as vm-2-launcher, and only as that.
    const asWorker = (workerId: string) =>
      fetch(`${api.baseUrl}/api/dispatch/heartbeat`, {
        method: "POST",
        headers: { "content-type": "application/json", "x-ops-worker-token": workerToken },
        body: JSON.stringify({ worker_id: workerId, hostname: "vm-2", pid: 1, version: "e2e", agent_slugs: ["codex"], free_slots: 1 }),
      });
    expect((await asWorker("vm-2-launcher")).status).toBe(200);
    expect((await asWorker("vm-1")).status).toBe(403);
    await page.getByText(/AGENT_CREDENTIALS_<SLUG>=none/).waitFor();
    await page.getByTestId("setup-healthy").waitFor();
    await screenshot(page, "13-puesta-en-marcha", [page.getByTestId("launcher-command"), page.getByTestId("doctor-command")]);

    const health = (await rest()("GET", "/dispatch/health")).body;
    // vm-1 heartbeats with the service token: a warning in words, not a reason for "Con problemas".
    expect(health).toMatchObject({ ok: true, active_agents: ["codex", "opencode"] });
    expect(health.problems.map((p: { code: string }) => p.code)).toEqual(["WORKER_USES_SERVICE_TOKEN"]);
    // Turned on now, the two remaining agents are covered: still healthy.
    await rest()("PUT", "/settings/dispatch_enabled", { value: "true" });
    expect((await rest()("GET", "/dispatch/health")).body.ok).toBe(true);
    await rest()("PUT", "/settings/dispatch_enabled", { value: "false" });
  });

  it("an instance admin creates a workspace admin and a member, and a second workspace", async () => {
    await page.getByRole("navigation").getByRole("link", { name: "Personas" }).click();
    const users = page.locator("#users");
    const create = async (username: string, role: "admin" | "member") => {
      const form = users.getByRole("form", { name: "Nuevo usuario" });
      await form.getByLabel("Usuario").fill(username);
      await form.getByLabel("Contraseña inicial").fill(`${username}-password-1`);
      await form.getByLabel("Workspace inicial").selectOption({ label: "Default" });
      await form.getByRole("combobox", { name: "Rol" }).selectOption(role);
      await form.getByRole("button", { name: "Nuevo usuario" }).click();
      await users.getByText(`Usuario ${username} creado.`).waitFor();
    };
    await create("lucia", "admin");
    await create("mateo", "member");
    await users.locator("[data-user=lucia]").getByText("Default (admin)").waitFor();
    await page.locator("#members [data-member=mateo]").waitFor();

    const workspaces = page.locator("#workspaces");
    await workspaces.getByRole("textbox", { name: "Nuevo workspace" }).fill("Equipo B");
    await workspaces.getByRole("button", { name: "Crear" }).click();
    await workspaces.getByRole("textbox", { name: /Nombre #2/ }).waitFor();
    await screenshot(page, "14-personas");
  });

  it("a workspace admin sees and manages its workspace's people, but not users, workspaces or the service token", async () => {
    const { context, page: lucia, problems: seen } = await openPage(browser);
    await signIn(lucia, api.baseUrl, "lucia", "lucia-password-1");
    const navigation = lucia.getByRole("navigation");
    await navigation.getByRole("link", { name: "Personas" }).waitFor();
    expect(await navigation.getByRole("link", { name: "Puesta en marcha" }).count()).toBe(0);
    // The instance's switch is for instance admins; a workspace admin pauses or resumes its own workspace.
    await lucia.getByRole("button", { name: "Pausar este workspace" }).waitFor();
    expect(await lucia.getByRole("button", { name: "Activar dispatch" }).count()).toBe(0);
    await lucia.getByRole("button", { name: "Reconciliar stale" }).waitFor();

    await navigation.getByRole("link", { name: "Personas" }).click();
    const members = lucia.locator("#members");
    await members.locator("[data-member=mateo]").waitFor();
    expect(await lucia.locator("#users").count()).toBe(0);
    expect(await lucia.locator("#workspaces").count()).toBe(0);
    // Her own role cannot be changed by her; mateo's can.
    expect(await members.getByRole("combobox", { name: "Rol: lucia" }).isDisabled()).toBe(true);
    await members.getByRole("combobox", { name: "Rol: mateo" }).selectOption("admin");
    await expect.poll(async () => (await rest()("GET", "/workspaces/1/members")).body.find((m: { username: string }) => m.username === "mateo").role).toBe("admin");
    await members.getByRole("combobox", { name: "Rol: mateo" }).selectOption("member");
    await expect.poll(async () => (await rest()("GET", "/workspaces/1/members")).body.find((m: { username: string }) => m.username === "mateo").role).toBe("member");
    await screenshot(lucia, "15-personas-workspace-admin");

    await navigation.getByRole("link", { name: "Ajustes" }).click();
    const token = lucia.getByRole("region", { name: "service_api_token" });
    await token.getByText("Solo un admin de instancia puede cambiar este ajuste.").waitFor();
    expect(await token.getByRole("button").count()).toBe(0);

    // Her own password, from the user menu.
    await lucia.locator(".user-menu > summary").click();
    await lucia.getByRole("link", { name: "Mi cuenta" }).click();
    await lucia.getByLabel("Contraseña actual").fill("lucia-password-1");
    await lucia.getByLabel("Nueva contraseña", { exact: true }).fill("lucia-password-2");
    await lucia.getByLabel("Repite la nueva contraseña").fill("lucia-password-2");
    await lucia.getByRole("button", { name: "Cambiar mi contraseña" }).click();
    await lucia.getByText("Contraseña cambiada. Tus otras sesiones se han cerrado.").waitFor();
    expect(seen).toEqual([]);
    await context.close();
  });

  it("a member sees everything without the buttons it may not use, and is signed out when disabled", async () => {
    const { context, page: mateo, problems: seen } = await openPage(browser);
    await signIn(mateo, api.baseUrl, "mateo", "mateo-password-1");
    await mateo.getByText("Tu rol es miembro: puedes ver pero no actuar en este workspace.").waitFor();
    await mateo.getByRole("heading", { name: "Automatizaciones", exact: true }).waitFor();
    await mateo.locator("#watchdog").waitFor();
    for (const name of ["Activar dispatch", "Reconciliar stale", "Resolver"]) expect(await mateo.getByRole("button", { name }).count(), name).toBe(0);
    const navigation = mateo.getByRole("navigation");
    expect(await navigation.getByRole("link", { name: "Personas" }).count()).toBe(0);
    expect(await navigation.getByRole("link", { name: "Puesta en marcha" }).count()).toBe(0);

    const task = (await rest()("POST", "/tasks", { title: "E2E: tarea del equipo", agent_slug: "codex", execution: "interactive" })).body;
    await mateo.goto(`${api.baseUrl}/tareas/${task.id}`);
    await mateo.getByRole("button", { name: "Dispatch", exact: true }).waitFor();
    for (const name of ["Eliminar", "Cancelar dispatch", "Aprobar (Human Gate)"]) expect(await mateo.getByRole("button", { name }).count(), name).toBe(0);
    await mateo.getByRole("navigation").getByRole("link", { name: "Agentes" }).click();
    await mateo.locator("[data-agent=codex]").waitFor();
    expect(await mateo.getByRole("button", { name: /^(Editar|Eliminar):/ }).count()).toBe(0);
    await screenshot(mateo, "16-agentes-member");

    // Disabled by the instance admin: the open session stops working.
    await page.reload();
    await page.locator("#users [data-user=mateo]").getByRole("button", { name: "Desactivar: mateo" }).click();
    const confirm = page.locator("#users").getByRole("alertdialog");
    await expect.poll(() => page.evaluate(() => document.activeElement?.textContent)).toBe("Cancelar");
    await confirm.getByRole("button", { name: "Desactivar" }).click();
    await page.locator("#users [data-user=mateo]").getByText("desactivado").waitFor();
    await mateo.reload();
    await mateo.locator("input[name=username]").waitFor();
    await mateo.locator("input[name=username]").fill("mateo");
    await mateo.locator("input[name=password]").fill("mateo-password-1");
    await mateo.locator("input[name=password]").press("Enter");
    await mateo.getByText("Esta cuenta está desactivada: pide a un admin de instancia que la active.").waitFor();
    expect(await visibleText(mateo)).not.toContain("this account is disabled");
    expect(seen).toEqual([]);
    await context.close();
  });

  it("ran without CSP violations or page errors", () => {
    expect(problems).toEqual([]);
  });
});

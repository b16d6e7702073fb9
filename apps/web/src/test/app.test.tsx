// @vitest-environment node
// The DOM comes from ./dom-setup.ts (see there why); it must be the first import.
import "./dom-setup.ts";
import "@testing-library/jest-dom/vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { admin, health, member, opsError, renderApp, task } from "./fake-api.tsx";

afterEach(cleanup);

describe("sign-in", () => {
  it("says a wrong password is wrong without saying which part, then lets the right one in", async () => {
    let signedIn = false;
    const { calls } = renderApp("/", {
      "auth.me": () => {
        if (!signedIn) throw opsError("UNAUTHORIZED", "sign in or send X-OPS-Service-Token");
        return admin;
      },
      "auth.login": (input: { password: string }) => {
        if (input.password !== "right-password") throw opsError("UNAUTHORIZED", "invalid username or password");
        signedIn = true;
        return { me: admin };
      },
    });
    const user = userEvent.setup();
    await user.type(await screen.findByLabelText("Usuario"), "admin");
    await user.type(screen.getByLabelText("Contraseña"), "wrong");
    await user.click(screen.getByRole("button", { name: "Entrar" }));
    const alert = await screen.findByRole("alert");
    expect(alert).toHaveTextContent("Usuario o contraseña incorrectos.");
    expect(alert.textContent).not.toMatch(/usuario no existe|contraseña es incorrecta/i);

    await user.clear(screen.getByLabelText("Contraseña"));
    await user.type(screen.getByLabelText("Contraseña"), "right-password");
    await user.click(screen.getByRole("button", { name: "Entrar" }));
    expect(await screen.findByRole("heading", { name: "Automatizaciones" })).toBeInTheDocument();
    expect(calls.filter((c) => c.path === "auth.login").map((c) => c.input)).toEqual([
      { username: "admin", password: "wrong" },
      { username: "admin", password: "right-password" },
    ]);
  });
});

const troubled = health({
  ok: false,
  dispatch_enabled: false,
  problems: [{ code: "STALE_DISPATCHING", message: "1 stale task(s) in flight; run the watchdog (Reconciliar stale)", params: { count: 1, minutes: 20 } }],
  worker_summary: { total: 2, fresh: 1, stale: 1 },
  workers: [
    {
      worker_id: "w-fresh",
      hostname: "sa-tools",
      pid: 10,
      version: "1",
      agent_slugs: ["codex", "opencode"],
      models: ["qwen*"],
      running_task_ids: [41],
      free_slots: 1,
      cli_versions: {},
      runtimes: [
        { slug: "codex", state: "usable", reason: null, version: "codex-cli 0.171.0" },
        { slug: "opencode", state: "usable", reason: null, version: "1.18.33" },
        { slug: "claudecode", state: "not_authenticated", reason: "installed but not authenticated (none of: ANTHROPIC_API_KEY)", version: "2.1.197" },
      ],
      last_seen_at: new Date().toISOString(),
      seconds_since_seen: 4,
      fresh: true,
    },
    {
      worker_id: "w-old",
      hostname: "old-host",
      pid: 11,
      version: "1",
      agent_slugs: ["hermes"],
      models: [],
      running_task_ids: [],
      free_slots: 0,
      cli_versions: {},
      runtimes: [],
      last_seen_at: new Date().toISOString(),
      seconds_since_seen: 600,
      fresh: false,
    },
  ],
  queue: { queued: 2, dispatching: 2, doing: 0, stale_dispatching: 1, blocked: 1 },
  dispatching: [
    { task_id: 41, title: "Stuck task", status: "dispatching", agent_slug: "codex", claimed_by: "w-fresh", claimed_at: null, age_seconds: 1500, stale: true },
    { task_id: 42, title: "Young task", status: "dispatching", agent_slug: "codex", claimed_by: "w-fresh", claimed_at: null, age_seconds: 30, stale: false },
  ],
  open_alerts: 1,
});

const alert = {
  id: 5,
  workspace_id: 1,
  kind: "dispatch_stale",
  task_id: 41,
  task_title: "Stuck task",
  status: "open",
  message: 'Task #41 "Stuck task": stale dispatch: in dispatching for more than 20 min (worker w-fresh)',
  occurrences: 3,
  first_seen_at: new Date().toISOString(),
  last_seen_at: new Date().toISOString(),
  resolved_at: null,
  resolved_by: null,
};

describe("Operación → Automatizaciones", () => {
  it("shows health, every problem in words (once, in Spanish), workers, stale dispatching highlighted and alerts", async () => {
    renderApp("/operacion/automatizaciones", {
      "dispatch.health": () => troubled,
      "dispatch.workers": () => ({ workers: troubled.workers, total: 2, next_cursor: null }),
      "alerts.list": () => [alert],
    });
    expect(await screen.findByText("Con problemas")).toBeInTheDocument();
    expect(screen.getByText(/Hay 1 tarea atascada en vuelo \(más de 20 min en dispatching/)).toBeInTheDocument();
    expect(document.body.textContent).not.toContain("stale task(s) in flight");
    expect(screen.getByText("Dispatch: desactivado")).toBeInTheDocument();

    const workers = within(document.getElementById("workers")!);
    // The table pages through dispatch.workers, which answers after health.
    expect(await workers.findByRole("row", { name: /w-fresh/ })).toHaveTextContent("sa-tools");
    expect(workers.getByRole("status")).toHaveTextContent("2 de 2 workers");
    expect(workers.getByRole("row", { name: /w-fresh/ })).toHaveTextContent("qwen*");
    // Why a runtime is not usable, in the launcher's words.
    expect(workers.getByRole("row", { name: /w-fresh/ })).toHaveTextContent("claudecode sin credenciales installed but not authenticated (none of: ANTHROPIC_API_KEY)");
    expect(workers.getByRole("row", { name: /w-old/ })).toHaveTextContent("hermes");
    expect(workers.getByRole("row", { name: /w-old/ })).toHaveTextContent("caducado");

    const dispatching = within(document.getElementById("dispatching")!);
    const stuck = dispatching.getByRole("row", { name: /Stuck task/ });
    expect(stuck).toHaveClass("row-stale");
    expect(stuck).toHaveTextContent("STALE");
    expect(stuck).toHaveTextContent("25 min");
    expect(dispatching.getByRole("row", { name: /Young task/ })).not.toHaveClass("row-stale");

    const alerts = within(document.getElementById("alerts")!);
    const row = await alerts.findByRole("row", { name: /Stuck task/ });
    expect(row).toHaveTextContent("Dispatch atascado");
    expect(row).toHaveTextContent("Dispatch atascado: más de 20 min en dispatching (worker w-fresh).");
    expect(row).toHaveTextContent("3");
    expect(within(row).getByRole("button", { name: /Resolver/ })).toBeEnabled();
  });

  it("asks before turning dispatch on while health has problems", async () => {
    const { calls } = renderApp("/operacion/automatizaciones", {
      "dispatch.health": () => troubled,
      "settings.put": (input: { key: string; value: string }) => ({ key: input.key, value: input.value, secret: false, is_set: true, description: "", updated_at: null, updated_by: null }),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Activar dispatch" }));
    const dialog = screen.getByRole("alertdialog");
    expect(dialog).toHaveTextContent("¿Activar el dispatch con problemas?");
    expect(dialog).toHaveTextContent("Hay 1 tarea atascada");
    // The safe choice has the focus: a reflexive Enter cancels.
    expect(within(dialog).getByRole("button", { name: "Cancelar" })).toHaveFocus();
    expect(calls.some((c) => c.path === "settings.put")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Activar de todos modos" }));
    await waitFor(() => expect(calls.find((c) => c.path === "settings.put")?.input).toEqual({ key: "dispatch_enabled", value: "true" }));
  });

  it("turns dispatch on without asking when health is fine", async () => {
    const fine = health({ worker_summary: { total: 1, fresh: 1, stale: 0 } });
    const { calls } = renderApp("/operacion/automatizaciones", {
      "dispatch.health": () => fine,
      "settings.put": () => ({ key: "dispatch_enabled", value: "true", secret: false, is_set: true, description: "", updated_at: null, updated_by: null }),
    });
    await userEvent.click(await screen.findByRole("button", { name: "Activar dispatch" }));
    expect(screen.queryByRole("alertdialog")).toBeNull();
    await waitFor(() => expect(calls.some((c) => c.path === "settings.put")).toBe(true));
  });

  it("runs Reconciliar stale only after showing what it will move, and moves exactly that", async () => {
    const candidate = (task_id: number, worker_fresh: boolean) => ({
      task_id,
      title: `Task ${task_id}`,
      status: "dispatching",
      agent_slug: "codex",
      claimed_by: "w-fresh",
      claimed_at: null,
      age_seconds: 400,
      worker_fresh,
      reason: "stale_dispatch",
    });
    const { calls } = renderApp("/operacion/automatizaciones", {
      "dispatch.health": () => troubled,
      "dispatch.reconcilePreview": (input: { minutes: number }) => ({ stale_minutes: input.minutes, tasks: [candidate(41, true), candidate(42, false)] }),
      "dispatch.reconcileStale": (input: { minutes: number; task_ids: number[] }) => ({ stale_minutes: input.minutes, reconciled: 2, task_ids: input.task_ids }),
    });
    const user = userEvent.setup();
    const minutes = await screen.findByLabelText("Minutos");
    expect(minutes).toHaveValue("20");
    for (const refused of ["abc", "0"]) {
      await user.clear(minutes);
      await user.type(minutes, refused);
      expect(screen.getByRole("button", { name: "Reconciliar stale" }), refused).toBeDisabled();
    }
    await user.clear(minutes);
    await user.type(minutes, "5");
    await user.click(screen.getByRole("button", { name: "Reconciliar stale" }));
    const dialog = await screen.findByRole("alertdialog");
    expect(dialog).toHaveTextContent("Se moverán 2 tareas a En espera, bloqueadas, con 5 min:");
    expect(within(dialog).getByTestId("reconcile-preview").children[0]).toHaveTextContent("su worker sigue vivo");
    expect(within(dialog).getByRole("button", { name: "Cancelar" })).toHaveFocus();
    expect(calls.some((c) => c.path === "dispatch.reconcileStale")).toBe(false);
    await user.click(within(dialog).getByRole("button", { name: "Reconciliar 2 tareas" }));
    const result = await screen.findByTestId("reconcile-result");
    expect(result).toHaveTextContent("Reconciliadas 2 tareas con 5 min.");
    expect(within(result).getByRole("link", { name: "#41" })).toHaveAttribute("href", "/tareas/41");
    expect(calls.find((c) => c.path === "dispatch.reconcileStale")?.input).toEqual({ minutes: 5, task_ids: [41, 42] });
  });

  it("says one task in the singular", async () => {
    renderApp("/operacion/automatizaciones", {
      "dispatch.health": () => troubled,
      "dispatch.reconcilePreview": () => ({ stale_minutes: 20, tasks: [] }),
    });
    await userEvent.click(await screen.findByRole("button", { name: "Reconciliar stale" }));
    expect(await screen.findByTestId("reconcile-result")).toHaveTextContent("Con 20 min ninguna tarea está stale: nada que reconciliar.");
  });

  it("explains why a queued task is not dispatching", async () => {
    renderApp("/operacion/automatizaciones", {
      "tasks.list": () => ({ tasks: [task({ id: 9, title: "En cola", status: "queued" })], total: 1 }),
      "tasks.explain": () => ({
        task_id: 9,
        status: "queued",
        dispatchable_now: false,
        reasons: [
          { code: "DISPATCH_DISABLED", message: "dispatch_enabled is false: launchers receive no work", params: {} },
          { code: "NO_WORKER_FOR_AGENT", message: "no fresh worker reports agent codex as usable (0 fresh worker(s))", params: { agent: "codex", fresh_workers: 0 } },
        ],
      }),
    });
    await userEvent.click(await screen.findByRole("button", { name: "¿Por qué no se despacha?" }));
    expect(await screen.findByText("dispatch_enabled es false: los launchers no reciben trabajo.")).toBeInTheDocument();
    expect(screen.getByText("Ningún worker reciente puede ejecutar codex (0 workers recientes).")).toBeInTheDocument();
    expect(document.body.textContent).not.toContain("launchers receive no work");
  });

  it("lets members see without acting", async () => {
    renderApp("/operacion/automatizaciones", { "auth.me": () => member, "dispatch.health": () => troubled, "alerts.list": () => [alert] });
    expect(await screen.findByText("Con problemas")).toBeInTheDocument();
    expect(screen.getByText(/Tu rol es miembro/)).toBeInTheDocument();
    expect(await within(document.getElementById("alerts")!).findByRole("row", { name: /Stuck task/ })).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Activar dispatch/ })).toBeNull();
    expect(screen.queryByRole("button", { name: "Reconciliar stale" })).toBeNull();
    expect(screen.queryByRole("button", { name: /Resolver/ })).toBeNull();
  });

  it("is available in English", async () => {
    renderApp("/operacion/automatizaciones", {}, "en");
    expect(await screen.findByRole("heading", { name: "Automations" })).toBeInTheDocument();
    expect(await screen.findByRole("button", { name: "Reconcile stale" })).toBeInTheDocument();
    expect(screen.getByRole("button", { name: "Refresh" })).toBeInTheDocument();
    expect(screen.getByRole("navigation").textContent).toContain("Operations");
  });
});

describe("task page", () => {
  const guard = "AI task has no visible deliverable: add a context entry (not a launcher checkpoint) or a comment (not an ai-dispatch log) before moving it to done, or use ?force=true as admin";
  const handlers = (forced: { input?: unknown }) => ({
    "tasks.get": () => task(),
    "tasks.explain": () => ({ task_id: 7, status: "backlog", dispatchable_now: false, reasons: [] }),
    "context.list": () => [],
    "comments.list": () => [],
    "timeLogs.list": () => [],
    "tasks.setStatus": (input: { force?: boolean }) => {
      if (!input.force) throw opsError("DONE_GUARD", guard);
      forced.input = input;
      return task({ status: "done" });
    },
  });

  it("shows the done guard's refusal in plain words and lets an admin force it", async () => {
    const forced: { input?: unknown } = {};
    renderApp("/tareas/7", handlers(forced));
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Nuevo estado"), "done");
    await user.click(screen.getByRole("button", { name: "Aplicar" }));
    expect(await screen.findByText(/No se puede marcar como hecha: esta tarea de IA no tiene ningún entregable visible/)).toBeInTheDocument();
    // The API's English detail ("use ?force=true as admin") is not said again under the Spanish words.
    expect(screen.queryByText(guard)).toBeNull();
    await user.click(screen.getByRole("button", { name: /Forzar/ }));
    await waitFor(() => expect(forced.input).toEqual({ id: 7, status: "done", force: true }));
  });

  it("offers no force to members", async () => {
    renderApp("/tareas/7", { ...handlers({}), "auth.me": () => member });
    const user = userEvent.setup();
    await user.selectOptions(await screen.findByLabelText("Nuevo estado"), "done");
    await user.click(screen.getByRole("button", { name: "Aplicar" }));
    expect(await screen.findByText(/No se puede marcar como hecha/)).toBeInTheDocument();
    expect(screen.queryByRole("button", { name: /Forzar/ })).toBeNull();
  });

  it("offers Dispatch where the API queues from, and Cancel instead of Archive or Delete while a dispatch is live", async () => {
    const offered = async (status: string) => {
      renderApp("/tareas/7", { ...handlers({}), "tasks.get": () => task({ status }) });
      await screen.findByRole("heading", { name: "Acciones" });
      const names = ["Dispatch", "Cancelar dispatch", "Archivar", "Eliminar"].filter((name) => screen.queryByRole("button", { name }));
      cleanup();
      return names;
    };
    for (const status of ["backlog", "next", "waiting", "review"]) {
      expect(await offered(status)).toEqual(["Dispatch", "Archivar", "Eliminar"]);
    }
    for (const status of ["queued", "dispatching", "doing"]) expect(await offered(status)).toEqual(["Cancelar dispatch"]);
    expect(await offered("done")).toEqual(["Archivar", "Eliminar"]);
  });

  it("adds context, comments and time logs, holding Add back until the entry is complete", async () => {
    const entry = { id: 1, task_id: 7, author: "admin", created_at: new Date().toISOString() };
    const { calls } = renderApp("/tareas/7", {
      ...handlers({}),
      "context.add": (input: { kind: string; body: string }) => ({ ...entry, ...input, source: "human" }),
      "comments.add": (input: { body: string }) => ({ ...entry, ...input, kind: "user" }),
      "timeLogs.add": (input: { minutes: number; source: "ai" | "human"; note: string | null }) => ({ ...entry, ...input }),
    });
    const user = userEvent.setup();
    const sent = (path: string) => calls.filter((c) => c.path === path).map((c) => c.input);

    const context = await screen.findByRole("region", { name: "Contexto" });
    expect(within(context).getByRole("button", { name: "Añadir" })).toBeDisabled();
    await user.selectOptions(within(context).getByLabelText("Tipo"), "note");
    await user.type(within(context).getByLabelText("Texto"), "Deploy checked");
    await user.click(within(context).getByRole("button", { name: "Añadir" }));
    await waitFor(() => expect(sent("context.add")).toEqual([{ task_id: 7, kind: "note", body: "Deploy checked" }]));
    await waitFor(() => expect(within(context).getByLabelText("Texto")).toHaveValue(""));

    const comments = screen.getByRole("region", { name: "Comentarios" });
    await user.type(within(comments).getByLabelText("Comentario"), "   ");
    expect(within(comments).getByRole("button", { name: "Añadir" })).toBeDisabled();
    await user.type(within(comments).getByLabelText("Comentario"), "Looks good");
    await user.click(within(comments).getByRole("button", { name: "Añadir" }));
    await waitFor(() => expect(sent("comments.add")).toEqual([{ task_id: 7, body: "   Looks good" }]));

    const timeLogs = screen.getByRole("region", { name: "Tiempo registrado" });
    const minutes = within(timeLogs).getByLabelText("Minutos");
    for (const refused of ["0", "10081", "1.5", "-3"]) {
      await user.clear(minutes);
      await user.type(minutes, refused);
      expect(within(timeLogs).getByRole("button", { name: "Añadir" }), refused).toBeDisabled();
    }
    await user.clear(minutes);
    await user.type(minutes, "10080");
    await user.selectOptions(within(timeLogs).getByLabelText("Origen"), "ai");
    await user.click(within(timeLogs).getByRole("button", { name: "Añadir" }));
    await waitFor(() => expect(sent("timeLogs.add")).toEqual([{ task_id: 7, minutes: 10080, source: "ai", note: null }]));
  });

  it("says Human Gate in words when a sensitive task is dispatched, and offers admins the approval", async () => {
    renderApp("/tareas/7", {
      ...handlers({}),
      "tasks.get": () => task({ sensitive: true }),
      "tasks.dispatch": () => {
        throw opsError("HUMAN_GATE", "task 7 is sensitive and needs human approval (Human Gate)");
      },
    });
    const user = userEvent.setup();
    expect(await screen.findByRole("button", { name: "Aprobar (Human Gate)" })).toBeInTheDocument();
    await user.click(screen.getByRole("button", { name: "Dispatch" }));
    expect(await screen.findByText(/necesita la aprobación de un admin/)).toBeInTheDocument();
  });
});

describe("Ajustes", () => {
  it("validates a value as the API does before sending it", async () => {
    const { calls } = renderApp("/ajustes", {
      "settings.list": () => [
        { key: "dispatch_stale_minutes", value: "20", secret: false, is_set: true, description: "stale after", updated_at: null, updated_by: null },
        { key: "service_api_token", value: null, secret: true, is_set: true, description: "token", updated_at: null, updated_by: null },
      ],
    });
    const user = userEvent.setup();
    const region = await screen.findByRole("region", { name: "dispatch_stale_minutes" });
    const input = within(region).getByLabelText("Valor");
    await user.clear(input);
    await user.type(input, "abc");
    expect(within(region).getByRole("alert")).toHaveTextContent("dispatch_stale_minutes debe ser un número entero entre 1 y 10080.");
    expect(region).toHaveTextContent("Una tarea en dispatching más de estos minutos la reconcilia el watchdog.");
    expect(region).not.toHaveTextContent("stale after");
    expect(within(region).getByRole("button", { name: "Guardar" })).toBeDisabled();
    expect(calls.some((c) => c.path === "settings.put")).toBe(false);
    const token = screen.getByRole("region", { name: "service_api_token" });
    expect(token).toHaveTextContent("Configurado (nunca se muestra).");
  });
});

describe("Tareas", () => {
  it("filters by status, agent and blocked, passing them to tasks.list", async () => {
    const { calls } = renderApp("/tareas", {
      "agents.list": () => [
        { id: 3, workspace_id: 1, slug: "codex", name: "Codex", active: true, launch_command: null, default_model: null, working_dir: null, created_at: "", updated_at: "" },
      ],
      "tasks.list": () => ({ tasks: [task({ id: 7, status: "queued" }), task({ id: 8, title: "Otra", status: "waiting", blocked: true })], total: 2 }),
    });
    const user = userEvent.setup();
    expect(await screen.findByRole("link", { name: "#7 Revisar despliegue" })).toBeInTheDocument();
    expect(within(screen.getByRole("region", { name: "En espera" })).getByText("bloqueada")).toBeInTheDocument();
    await user.selectOptions(screen.getByLabelText("Estado"), "queued");
    await user.selectOptions(screen.getByLabelText("Agente"), "3");
    await user.selectOptions(screen.getByLabelText("Bloqueada"), "true");
    await waitFor(() =>
      expect(calls.filter((c) => c.path === "tasks.list").at(-1)?.input).toMatchObject({ status: "queued", agent_id: 3, blocked: true }),
    );
    expect(window.location.search).toBe("?status=queued&agent=3&blocked=true");
    await user.click(screen.getByRole("button", { name: "Lista" }));
    expect(await screen.findByRole("table")).toBeInTheDocument();
  });
});

describe("session", () => {
  it("goes back to sign-in when the session ends while the page is open", async () => {
    let expired = false;
    renderApp("/operacion/automatizaciones", {
      "auth.me": () => {
        if (expired) throw opsError("UNAUTHORIZED", "sign in or send X-OPS-Service-Token");
        return admin;
      },
      "dispatch.health": () => {
        if (expired) throw opsError("UNAUTHORIZED", "sign in or send X-OPS-Service-Token");
        return health();
      },
    });
    const user = userEvent.setup();
    await screen.findByText("OK: sin problemas");
    expired = true;
    await user.click(screen.getByRole("button", { name: "Actualizar" }));
    expect(await screen.findByRole("heading", { name: /Iniciar sesión/ })).toBeInTheDocument();
  });
});

describe("task deletion", () => {
  it("asks before deleting and goes back to Tareas", async () => {
    const { calls } = renderApp("/tareas/7", {
      "tasks.get": () => task(),
      "tasks.explain": () => ({ task_id: 7, status: "backlog", dispatchable_now: false, reasons: [] }),
      "context.list": () => [],
      "comments.list": () => [],
      "timeLogs.list": () => [],
      "tasks.delete": () => ({ ok: true }),
    });
    const user = userEvent.setup();
    await user.click(await screen.findByRole("button", { name: "Eliminar" }));
    expect(calls.some((c) => c.path === "tasks.delete")).toBe(false);
    await user.click(within(screen.getByRole("alertdialog")).getByRole("button", { name: "Eliminar" }));
    await waitFor(() => expect(window.location.pathname).toBe("/tareas"));
    expect(calls.find((c) => c.path === "tasks.delete")?.input).toEqual({ id: 7 });
  });
});

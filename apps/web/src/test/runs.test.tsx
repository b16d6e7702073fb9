// @vitest-environment node
// The DOM comes from ./dom-setup.ts (see there why); it must be the first import.
import "./dom-setup.ts";
import "@testing-library/jest-dom/vitest";
import { cleanup, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it } from "vitest";
import { AnsiParser, ansiClasses } from "../pages/tasks/ansi.ts";
import { renderApp, task } from "./fake-api.tsx";

afterEach(cleanup);

const now = new Date().toISOString();
const run = (over: Record<string, unknown>) => ({
  id: 1,
  task_id: 7,
  attempt: 1,
  worker_id: "vm-launcher",
  agent_slug: "codex",
  model: null,
  command: ["codex", "exec", "--skip-git-repo-check", "You are an AI agent…"],
  pid: 4242,
  claimed_at: now,
  started_at: now,
  ended_at: null,
  exit_code: null,
  signal: null,
  duration_ms: null,
  ai_minutes: null,
  outcome: null,
  reason: null,
  reason_code: null,
  reason_params: null,
  log_path: "/root/.ops-launcher-logs/7-20261201T100000000Z.log",
  err_log_path: "/root/.ops-launcher-logs/7-20261201T100000000Z.err.log",
  timeout_minutes: 120,
  output: { stdout_bytes: 0, stderr_bytes: 0, stdout_total: null, stderr_total: null, kept_bytes: 0, truncated: false, pruned: false, done: false },
  ...over,
});

describe("a task's runs on its page", () => {
  it("lists runs newest first and shows the newest one's output live: stdout and stderr apart, colours rendered, no escape garbage", async () => {
    const pages = [
      { chunks: [{ stream: "stdout", offset: 0, text: "Reading the repo\n\u001b[32mok\u001b[0m step 1\n" }], next_offset: 35, done: false },
      { chunks: [{ stream: "stderr", offset: 35, text: "\u001b[31mwarning: slow\u001b[0m\n" }], next_offset: 60, done: false },
      { chunks: [{ stream: "truncated", offset: 60, text: "\n[… 100 bytes of output not kept here …]\n" }, { stream: "stdout", offset: 160, text: "done\n" }], next_offset: 165, done: true },
    ];
    const asked: number[] = [];
    renderApp("/tareas/7", {
      "tasks.get": () => task({ status: "doing", claim_attempt: 2 }),
      "context.list": () => [],
      "comments.list": () => [],
      "timeLogs.list": () => [],
      "runs.list": () => [
        run({ id: 2, attempt: 2 }),
        run({ id: 1, attempt: 1, outcome: "timed_out", reason: "agent timed out after 120 min", ended_at: now, signal: "SIGKILL", duration_ms: 7_200_500 }),
      ],
      "runs.output": (input: { run: number; offset: number }) => {
        asked.push(input.offset);
        const page = pages.find((p) => p.chunks[0]!.offset >= input.offset) ?? { chunks: [], next_offset: input.offset, done: true };
        return { task_id: 7, run_id: input.run, truncated: true, pruned: false, ...page };
      },
    });
    const runs = within(await screen.findByRole("region", { name: "Ejecuciones" }));
    const rows = await runs.findAllByRole("row");
    expect(rows.slice(1).map((r) => r.textContent)).toEqual([
      expect.stringMatching(/^#2en cursovm-launcher/),
      // The outcome says why in a word; the reason itself is the blocker's, said once on the page.
      expect.stringMatching(/^#1tiempo agotadovm-launcher.*2 h 0 min.*— \(SIGKILL\)$/),
    ]);
    const output = await screen.findByTestId("run-output");
    await waitFor(() => expect(output).toHaveTextContent("done"), { timeout: 8000 });
    expect(output.textContent).toBe("Reading the repo\nok step 1\nwarning: slow\n\n[… 100 bytes of output not kept here …]\ndone\n");
    expect(output.textContent).not.toContain("\u001b");
    const stderr = output.querySelector('[data-stream="stderr"]')!;
    expect(stderr).toHaveClass("out-stderr");
    expect(stderr.querySelector(".ansi-fg-1")).toHaveTextContent("warning: slow");
    expect(output.querySelector('[data-stream="stdout"] .ansi-fg-2')).toHaveTextContent("ok");
    expect(output.querySelector('[data-stream="truncated"]')).toHaveClass("out-marker");
    // Each poll asks from where the last one ended.
    expect(asked.slice(0, 3)).toEqual([0, 35, 60]);
    expect(screen.getByTestId("run-output-state")).toHaveTextContent("Salida completa.");
    expect(screen.getByRole("link", { name: "Descargar la salida" })).toHaveAttribute("href", "/api/tasks/7/runs/2/output?format=text&limit_kb=1048576");
    expect(within(screen.getByTestId("run-fields")).getByText("/root/.ops-launcher-logs/7-20261201T100000000Z.err.log")).toBeInTheDocument();

    // An older run's output on request.
    const user = userEvent.setup();
    await user.click(runs.getByRole("button", { name: "#1" }));
    expect(runs.getByRole("button", { name: "#1" })).toHaveAttribute("aria-pressed", "true");
  });

  it("shows dispatch_output as fields, not a JSON dump", async () => {
    renderApp("/tareas/7", {
      "tasks.get": () =>
        task({
          status: "review",
          dispatch_output: { worker_id: "vm-launcher", pid: 4242, command: ["codex", "exec", "hi"], log_path: "/l/7.log", err_log_path: "/l/7.err.log", exit_code: 0, duration_ms: 61_500 },
        }),
      "context.list": () => [],
      "comments.list": () => [],
      "timeLogs.list": () => [],
    });
    const fields = within(await screen.findByTestId("dispatch-output"));
    expect(fields.getByText("codex exec hi")).toBeInTheDocument();
    expect(fields.getByText("1 min 2 s")).toBeInTheDocument();
    expect(fields.getByText("/l/7.err.log")).toBeInTheDocument();
    expect(document.getElementById("dispatch-output")!.textContent).not.toContain("{");
  });
});

describe("Agentes: launch commands checked as they are typed", () => {
  it("says where a command the launcher could not parse goes wrong", async () => {
    renderApp("/agentes", {});
    const user = userEvent.setup();
    const field = within(await screen.findByRole("region", { name: "Nuevo agente" })).getByLabelText(/^Comando de lanzamiento/);
    await user.type(field, 'codex exec "{{prompt}');
    expect(await screen.findByTestId("launch-command-problem")).toHaveTextContent("El launcher no podría ejecutarlo: comilla doble sin cerrar en el carácter 12.");
    await user.type(field, '"');
    expect(screen.queryByTestId("launch-command-problem")).toBeNull();
  });
});

describe("ANSI colours in agent output", () => {
  it("keeps the 16 colours and styles as classes, across chunks, and drops every other escape", () => {
    const parser = new AnsiParser();
    const a = parser.push("\u001b[1;34mbold blue\u001b[");
    const b = parser.push("0m plain \u001b]0;title\u0007\u001b[2K\rline\u001b[38;5;208m256\u001b[39m\n");
    expect([...a, ...b].map((s) => [s.text, ansiClasses(s.style)])).toEqual([
      ["bold blue", "ansi-fg-4 ansi-bold"],
      [" plain ", ""],
      ["line", ""],
      ["256", ""],
      ["\n", ""],
    ]);
  });
});

import { randomUUID } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFreshDatabase, type FreshDatabase } from "../../../tests/support/postgres.ts";
import { type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { launcherDirs, type Rest, type RunningLauncher, serviceRest, sleep, startLauncher } from "./harness.ts";
import { type ModelServer, startModelServer } from "./model-server.ts";

// The real agent CLIs (versions pinned by scripts/install-agent-clis.sh, which
// pnpm test runs first), started by a real launcher through its BUILT-IN
// commands, against a real API on PostgreSQL. Only the model is scripted: a
// local server answers each provider's streaming API with one shell tool call
// and then a final message. A CLI release that changes its flags, its config
// or its wire format fails here.
const CLI_DIR = process.env.OPS_AGENT_CLI_DIR ?? join(homedir(), ".cache/ops-dispatch/agent-clis");
const CLI_BIN = join(CLI_DIR, "node_modules/.bin");
const NODE_DIR = dirname(process.execPath);

const FINAL_MESSAGE = "OPS scripted turn complete: proof.txt written, deliverable posted";
const DELIVERABLE = "deliverable posted by the real CLI with its task token";
// Runs in the task's working folder through the CLI's own shell tool, and reports with the task token.
const TOOL_COMMAND = [
  `printf 'proof for task %s\\n' "$OPS_TASK_ID" > proof.txt`,
  `curl -sS -f -X POST "$OPS_API_BASE/tasks/$OPS_TASK_ID/context" -H "X-OPS-Task-Token: $OPS_TASK_TOKEN" -H 'Content-Type: application/json' -d '{"kind":"deliverable","body":"${DELIVERABLE}"}'`,
].join(" && ");

const RUNTIMES = [
  { slug: "codex", program: "codex", model: "stub-codex-model" },
  { slug: "claudecode", program: "claude", model: "claude-stub-model" },
  { slug: "opencode", program: "opencode", model: "stub/stub-model" },
] as const;

let db: FreshDatabase;
let api: SpawnedApi;
let rest: Rest;
let model: ModelServer;
let launcher: RunningLauncher;
const dirs = launcherDirs();
// Everything the CLIs read or write for themselves (config, sessions, caches) stays in here.
const home = join(dirs.root, "home");
const durations: Record<string, number> = {};

function writeCliConfigs(modelUrl: string) {
  mkdirSync(join(home, ".codex"), { recursive: true });
  writeFileSync(
    join(home, ".codex/config.toml"),
    [
      'model_provider = "stub"',
      "[model_providers.stub]",
      'name = "scripted model server"',
      `base_url = "${modelUrl}/v1"`,
      'wire_api = "responses"',
      'env_key = "OPENAI_API_KEY"',
      "",
    ].join("\n"),
  );
  mkdirSync(join(home, ".config/opencode"), { recursive: true });
  writeFileSync(
    join(home, ".config/opencode/opencode.json"),
    JSON.stringify({
      autoupdate: false,
      share: "disabled",
      provider: {
        stub: {
          npm: "@ai-sdk/openai-compatible",
          name: "scripted model server",
          options: { baseURL: `${modelUrl}/v1`, apiKey: "sk-test-not-a-real-key" },
          models: { "stub-model": { name: "stub model" } },
        },
      },
    }),
  );
}

beforeAll(async () => {
  for (const { program } of RUNTIMES) {
    if (!existsSync(join(CLI_BIN, program))) {
      throw new Error(`the real ${program} CLI is missing from ${CLI_BIN}: run scripts/install-agent-clis.sh (pnpm test does) before this suite`);
    }
  }
  db = await createFreshDatabase();
  api = await spawnApi({ databaseUrl: db.url });
  rest = serviceRest(api);
  expect((await rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
  model = await startModelServer({ command: TOOL_COMMAND, finalMessage: FINAL_MESSAGE });
  writeCliConfigs(model.url);
  launcher = await startLauncher(api, dirs, {
    OPS_WORKER_ID: "real-clis-worker",
    SUPPORTED_AGENT_SLUGS: RUNTIMES.map((r) => r.slug).join(","),
    // One run at a time is the plan; room for more keeps a hung CLI from holding up the next one.
    OPS_MAX_CONCURRENT: "3",
    // A real turn exits 0; anything else is a failure this suite reports with the logs.
    OPS_EARLY_EXIT_MS: "1000",
    PATH: `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin`,
    HOME: home,
    CODEX_HOME: join(home, ".codex"),
    XDG_CONFIG_HOME: join(home, ".config"),
    XDG_DATA_HOME: join(home, ".local/share"),
    XDG_CACHE_HOME: join(home, ".cache"),
    XDG_STATE_HOME: join(home, ".local/state"),
    // The credentials the built-in rules look for; the model server accepts any.
    OPENAI_API_KEY: "sk-test-not-a-real-key",
    ANTHROPIC_API_KEY: "sk-ant-test-not-a-real-key",
    ANTHROPIC_BASE_URL: model.url,
    // No self-updates or telemetry from a test run (no network here anyway; these keep it quick where there is).
    DISABLE_AUTOUPDATER: "1",
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
    OPENCODE_DISABLE_AUTOUPDATE: "1",
    OPENCODE_DISABLE_MODELS_FETCH: "1",
  });
  await launcher.waitForOutput(/"usable":\["codex","claudecode","opencode"\]/, 30_000);
}, 180_000);

/**
 * The launcher leaves running agents alone when it stops (it re-adopts them on
 * restart); a CLI still waiting on the model after a failed test must not
 * outlive the suite. Their wrappers lead process groups and name this run's log folder.
 */
function killLeftoverAgents() {
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(`${dirs.logDir}/`)) process.kill(-Number(entry), "SIGKILL");
    } catch {
      // not a group leader, or already gone
    }
  }
}

afterAll(async () => {
  await launcher?.stop();
  killLeftoverAgents();
  await api?.stop();
  await model?.close();
  await db?.drop();
  rmSync(dirs.root, { recursive: true, force: true });
  if (Object.keys(durations).length) console.log(`[real-clis] dispatch → review per CLI: ${JSON.stringify(durations)}`);
});

/** Command lines of every process in a process group (the launcher starts each agent in its own). */
function groupCommandLines(pgid: number): string[] {
  const lines: string[] = [];
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      // Fields after the parenthesised name: state ppid pgrp …
      const pgrp = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[2]);
      if (pgrp === pgid) lines.push(readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " "));
    } catch {
      // the process ended meanwhile
    }
  }
  return lines;
}

function diagnostics(taskId?: number): string {
  const logs = existsSync(dirs.logDir)
    ? readdirSync(dirs.logDir)
        .filter((f) => taskId === undefined || f.startsWith(`${taskId}-`))
        .filter((f) => f.endsWith(".log"))
        .map((f) => `--- ${f}\n${readFileSync(join(dirs.logDir, f), "utf8").slice(-3000)}`)
    : [];
  const requests = model.requests.map((r) => `${r.method} ${r.path} → ${r.answer}`);
  return `\nmodel server requests:\n${requests.join("\n")}\nagent logs:\n${logs.join("\n")}\nlauncher:\n${launcher.output().slice(-4000)}`;
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs: number, taskId?: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what} within ${timeoutMs} ms${diagnostics(taskId)}`);
    await sleep(100);
  }
}

/**
 * While the CLI waits on the model for its tool call: the prompt reached the
 * model, but no process of the run carries the task's text in its argv
 * (where `ps` shows it to every local user).
 */
async function checkRunWhileHeld(id: number, program: string, marker: string, requestsBefore: number) {
  const doing = await until(
    "the started report did not arrive",
    async () => {
      const t = (await rest("GET", `/tasks/${id}`)).body;
      return t.status === "doing" ? t : undefined;
    },
    20_000,
    id,
  );
  expect(model.requests.slice(requestsBefore).some((r) => r.body.includes(marker)), "the prompt never reached the model").toBe(true);
  const commandLines = groupCommandLines(doing.dispatch_output.pid);
  expect(commandLines.some((c) => c.includes(`${CLI_BIN}/${program}`)), commandLines.join("\n")).toBe(true);
  expect(commandLines.filter((c) => c.includes(marker))).toEqual([]);
  expect(JSON.stringify(doing.dispatch_output.command)).not.toContain(marker);
}

describe("the real agent CLIs through the launcher's built-in commands", () => {
  it.each(RUNTIMES)(
    "$slug: runs its tool call in the task's working folder, reports with its task token, ends in review with its output logged",
    async ({ slug, program, model: modelName }) => {
      const workdir = mkdtempSync(join(dirs.root, `${slug}-work-`));
      const marker = `task-text-${randomUUID()}`;
      let atToolCall = false;
      let release!: () => void;
      const released = new Promise<void>((r) => (release = r));
      // Holds this task's CLI (its prompt carries the marker) at its first tool call.
      model.script.beforeToolCall = async (body) => {
        if (!body.includes(marker)) return;
        atToolCall = true;
        await released;
      };
      const requestsBefore = model.requests.length;
      const started = Date.now();

      const created = await rest("POST", "/tasks", {
        title: `Real ${slug} turn`,
        description: `Write the proof file and post the deliverable. ${marker}`,
        execution: "interactive",
        agent_slug: slug,
        model: modelName,
        working_dir: workdir,
      });
      expect(created.status, JSON.stringify(created.body)).toBe(200);
      const id = created.body.id as number;
      expect((await rest("POST", `/tasks/${id}/dispatch`)).status).toBe(200);
      const task = async () => (await rest("GET", `/tasks/${id}`)).body;

      try {
        // The CLI started, read its prompt, and now waits on the model for its first turn.
        await until(
          `${slug} did not ask the model server for a turn`,
          async () => {
            if (atToolCall) return true;
            const t = await task();
            if (!["queued", "dispatching", "doing"].includes(t.status)) throw new Error(`${slug} ended as ${t.status}: ${t.blocked_reason}${diagnostics(id)}`);
            return undefined;
          },
          60_000,
          id,
        );
        await checkRunWhileHeld(id, program, marker, requestsBefore);
      } finally {
        // A failed check must not leave the CLI hanging on the model.
        release();
      }

      const ended = await until(
        "the run did not end",
        async () => {
          const t = await task();
          return ["dispatching", "doing"].includes(t.status) ? undefined : t;
        },
        90_000,
        id,
      );
      durations[slug] = Date.now() - started;
      expect(ended.status, `${ended.blocked_reason}${diagnostics(id)}`).toBe("review");

      // The tool call ran in the task's working folder, with the task's environment.
      expect(readFileSync(join(workdir, "proof.txt"), "utf8")).toBe(`proof for task ${id}\n`);
      // The agent's output is captured: its final message is in the run's log.
      expect(readFileSync(ended.dispatch_output.log_path, "utf8")).toContain(FINAL_MESSAGE);
      // Its request with the task token worked: the deliverable is on the task, as the AI's.
      const context = (await rest("GET", `/tasks/${id}/context`)).body;
      expect(context).toContainEqual(expect.objectContaining({ kind: "deliverable", source: "ai", body: DELIVERABLE }));
      const answers = model.requests.slice(requestsBefore).map((r) => r.answer);
      expect(answers).toContain("tool call");
      expect(answers).toContain("final message");
    },
    150_000,
  );
});

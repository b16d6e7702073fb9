import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { REPO_ROOT, type SpawnedApi, spawnApi } from "../../../tests/support/spawn-api.ts";
import { DOCTOR_MAIN, FAKE_AGENT, launcherDirs, launcherEnv, serviceRest } from "./harness.ts";

// The real agent CLIs from npm, installed by scripts/install-agent-clis.sh (CI runs it first).
const CLI_DIR = process.env.OPS_AGENT_CLI_DIR ?? join(homedir(), ".cache/ops-dispatch/agent-clis");
const CLI_BIN = join(CLI_DIR, "node_modules/.bin");
const NODE_DIR = dirname(process.execPath);

function requireRealClis() {
  for (const cli of ["codex", "opencode", "claude"]) {
    if (!existsSync(join(CLI_BIN, cli))) {
      throw new Error(`the real ${cli} CLI is missing from ${CLI_BIN}: run scripts/install-agent-clis.sh (OPS_AGENT_CLI_DIR=${CLI_DIR}) before this suite`);
    }
  }
}

let api: SpawnedApi;
const dirs = launcherDirs();
const home = mkdtempSync(join(tmpdir(), "doctor-home-"));

beforeAll(async () => {
  requireRealClis();
  api = await spawnApi();
}, 120_000);

afterAll(async () => {
  await api?.stop();
  rmSync(dirs.root, { recursive: true, force: true });
  rmSync(home, { recursive: true, force: true });
});

/** Runs `worker:doctor`'s entry point with a controlled PATH and credentials. */
function doctor(env: Record<string, string>, args: { viaPnpm?: boolean } = {}) {
  const fullEnv = {
    ...launcherEnv(api, dirs, {}),
    HOME: home,
    OPS_LAUNCHER_ENV_FILE: "",
    // hermes has no npm package: a stand-in answers for it.
    AGENT_CMD_HERMES: `${FAKE_AGENT} ok {prompt}`,
    ANTHROPIC_API_KEY: "test-key",
    OPENAI_API_KEY: "test-key",
    ...env,
  };
  const result = args.viaPnpm
    ? spawnSync("pnpm", ["--silent", "--filter", "@ops/launcher", "run", "doctor"], { cwd: REPO_ROOT, env: fullEnv, encoding: "utf8", timeout: 60_000 })
    : spawnSync(process.execPath, ["--import", "tsx", DOCTOR_MAIN], { cwd: REPO_ROOT, env: fullEnv, encoding: "utf8", timeout: 60_000 });
  return { status: result.status, out: `${result.stdout}${result.stderr}` };
}

describe("worker:doctor", () => {
  it("passes with the real codex, opencode and claude CLIs installed and credentials present", () => {
    const { status, out } = doctor({ PATH: `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin` });
    expect(out).toMatch(new RegExp(`codex\\s+OK\\s+${CLI_BIN}/codex \\(codex-cli \\d+\\.\\d+`));
    expect(out).toMatch(new RegExp(`opencode\\s+OK\\s+${CLI_BIN}/opencode \\(\\d+\\.\\d+`));
    expect(out).toMatch(new RegExp(`claudecode\\s+OK\\s+${CLI_BIN}/claude \\(\\d+\\.\\d+\\.\\d+ \\(Claude Code\\)\\)`));
    expect(out).toMatch(/hermes\s+OK/);
    expect(out).toMatch(/api\s+OK\s+.*service token accepted/);
    expect(out).toMatch(/detached logs\s+OK/);
    expect(out.trim().split("\n").at(-1)).toBe("[doctor] PASS all runtimes available");
    expect(status).toBe(0);
  });

  it("names a MISSING runtime and exits non-zero when one CLI is not on PATH", () => {
    const partial = mkdtempSync(join(tmpdir(), "doctor-path-"));
    for (const cli of ["codex", "opencode"]) symlinkSync(join(CLI_BIN, cli), join(partial, cli));
    const { status, out } = doctor({ PATH: `${partial}:${NODE_DIR}:/usr/bin:/bin` });
    rmSync(partial, { recursive: true, force: true });
    expect(out).toMatch(/claudecode\s+MISSING\s+claude not found on PATH/);
    expect(out).toMatch(/codex\s+OK/);
    expect(out.trim().split("\n").at(-1)).toBe("[doctor] FAIL MISSING runtime: claudecode");
    expect(status).not.toBe(0);
  });

  it("reports claudecode installed but not authenticated (the runbook's VPS note) and fails", () => {
    const { status, out } = doctor({ PATH: `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin`, ANTHROPIC_API_KEY: "" });
    expect(out).toMatch(/claudecode\s+NOT_AUTHENTICATED\s+.*installed but not authenticated/);
    expect(out).toContain("ANTHROPIC_API_KEY");
    expect(out.trim().split("\n").at(-1)).toBe("[doctor] FAIL installed but not authenticated: claudecode");
    expect(status).not.toBe(0);
  });

  it("fails when the API rejects the token or a log folder is not writable", () => {
    const blocked = join(dirs.root, "file-not-dir");
    mkdirSync(dirs.root, { recursive: true });
    spawnSync("touch", [blocked]);
    const { status, out } = doctor({
      PATH: `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin`,
      OPS_SERVICE_TOKEN: "wrong-token-0123456789abcdef",
      OPS_LAUNCHER_LOG_DIR: join(blocked, "logs"),
    });
    expect(out).toMatch(/api\s+FAIL\s+.*rejected OPS_SERVICE_TOKEN/);
    expect(out).toMatch(/detached logs\s+FAIL\s+.*not writable/);
    expect(status).not.toBe(0);
  });

  it("resolves a runtime this host runs only through its agent's launch_command in OPS, as the daemon does", async () => {
    const rest = serviceRest(api);
    const path = `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin`;
    let { status, out } = doctor({ PATH: path, SUPPORTED_AGENT_SLUGS: "codex,opsonly" });
    expect(out).toMatch(/opsonly\s+MISSING\s+no command: set AGENT_CMD_OPSONLY or the agent's launch_command in OPS/);
    expect(status).not.toBe(0);
    const agent = await rest("POST", "/agents", { slug: "opsonly", name: "OPS only", launch_command: `${FAKE_AGENT} ok {prompt}` });
    expect(agent.status).toBe(200);
    ({ status, out } = doctor({ PATH: path, SUPPORTED_AGENT_SLUGS: "codex,opsonly", AGENT_CREDENTIALS_OPSONLY: "none" }));
    expect(out).toMatch(new RegExp(`opsonly\\s+OK\\s+${FAKE_AGENT} \\(fake-agent 0\\.0\\.1\\); credentials: no credentials required; command from launch_command in OPS`));
    expect(out.trim().split("\n").at(-1)).toBe("[doctor] PASS all runtimes available");
    expect(status).toBe(0);
  });

  it("stops on invalid configuration, naming the variable", () => {
    const { status, out } = doctor({ PATH: `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin`, SUPPORTED_MODELS: "gpt 4" });
    expect(out).toContain('SUPPORTED_MODELS: "gpt 4" is not a valid model filter');
    expect(status).toBe(2);
  });

  it("runs as the launcher package's doctor script through pnpm from the project root", () => {
    const { status, out } = doctor({ PATH: `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin:${process.env.PATH}` }, { viaPnpm: true });
    expect(out).toContain("[doctor] PASS all runtimes available");
    expect(status).toBe(0);
  });

  it("warns when agents would run as the launcher's own user, and when OPS_ALLOWED_PROGRAMS holds a shell", () => {
    const PATH = `${CLI_BIN}:${NODE_DIR}:/usr/bin:/bin`;
    const work = join(dirs.root, "work");
    const own = doctor({ PATH, OPS_ALLOWED_PROGRAMS: "codex,/bin/bash,python3", OPS_WORKDIR_ROOTS: work });
    expect(own.out).toMatch(/agent user\s+WARN\s+agents run as root, the launcher's own user: an agent can read the launcher's token .*set OPS_AGENT_USER/);
    expect(own.out).toMatch(/allowed programs\s+WARN\s+OPS_ALLOWED_PROGRAMS includes \/bin\/bash, python3: a shell or interpreter/);
    expect(own.out).toMatch(new RegExp(`workdir roots\\s+OK\\s+working folders must resolve under ${work}; a task without one gets ${work}/task-<id>`));
    // Warnings: the runtimes are still all there.
    expect(own.out.trim().split("\n").at(-1)).toBe("[doctor] PASS all runtimes available");

    // With an agent user: the launcher's folders (0700, root's) are private from it; the CLIs under /root are not runnable by it.
    const isolated = doctor({ PATH, OPS_AGENT_USER: "nobody", OPS_LAUNCHER_LOG: "-", OPS_WORKDIR_ROOTS: work });
    expect(isolated.out).toMatch(/agent user\s+OK\s+agents run as nobody \(uid 65534, gid 65534, primary group only\)/);
    expect(isolated.out).toMatch(new RegExp(`agent user\\s+WARN\\s+nobody cannot run ${CLI_BIN}/codex`));
    // The test's worker log is world-readable (the test-results folder): a FAIL naming it.
    const exposed = doctor({ PATH, OPS_AGENT_USER: "nobody", OPS_WORKDIR_ROOTS: work });
    expect(exposed.out).toMatch(/agent user\s+FAIL\s+agents run as nobody, who can read: worker log \S+launcher-worker\S+; make them root-only/);
    expect(exposed.status).toBe(1);
    expect(isolated.out).toMatch(/allowed programs\s+OK\s+an agent's launch_command in OPS may run: opencode, claude, codex, hermes/);
    expect(isolated.out).not.toMatch(/agent user\s+WARN\s+agents run as root/);

    // A root holding the launcher's state, and a missing agent user.
    expect(doctor({ PATH, OPS_WORKDIR_ROOTS: dirs.root, OPS_LAUNCHER_STATE_DIR: join(dirs.root, "state") }).out).toMatch(/workdir roots\s+WARN\s+OPS_WORKDIR_ROOTS .* holds the launcher's state/);
    const missing = doctor({ PATH, OPS_AGENT_USER: "no-such-agent-user" });
    expect(missing.out).toContain('OPS_AGENT_USER: no Unix user "no-such-agent-user" on this host');
    expect(missing.status).toBe(2);
  });
});

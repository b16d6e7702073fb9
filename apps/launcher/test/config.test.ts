import { spawnSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { builtinCredentialRule, checkCredentials, parseCredentialRule } from "../src/credentials.ts";
import { ConfigError, dropCredentialEnv, isLoopbackHost, loadConfig, parseEnvFile, trpcUrlOf } from "../src/env.ts";
import { BUILTIN_COMMANDS, assessRuntime, resolveCommand } from "../src/runtimes.ts";
import { buildPrompt, MAX_PROMPT_BYTES } from "../src/prompt.ts";
import { REPO_ROOT } from "../../../tests/support/spawn-api.ts";
import { LAUNCHER_MAIN } from "./harness.ts";

const base = { OPS_SERVICE_TOKEN: "token-for-config-tests", HOME: "/home/ops", PATH: "/usr/bin:/bin" };

describe("launcher configuration", () => {
  it("has the runbook's defaults", () => {
    const c = loadConfig(base);
    expect(c.apiBase).toBe("http://127.0.0.1:3847/api");
    expect(c.trpcUrl).toBe("http://127.0.0.1:3847/trpc");
    expect(c.slugs).toEqual(["opencode", "claudecode", "codex", "hermes"]);
    expect(c.models).toEqual([]);
    expect(c.workerLog).toBe("/var/log/ops-dispatch-launcher.log");
    expect(c.logDir).toBe("/home/ops/.ops-launcher-logs");
    expect(c.heartbeatIntervalMs).toBeLessThanOrEqual(30_000);
    expect(c.agentBaseEnv.OPS_SERVICE_TOKEN).toBeUndefined();
  });

  it("reads slugs, model filters and AGENT_CMD_<SLUG> for any slug", () => {
    const c = loadConfig({ ...base, SUPPORTED_AGENT_SLUGS: "codex, my-agent", SUPPORTED_MODELS: "qwen*,gpt-*", AGENT_CMD_MY_AGENT: "my-agent run {prompt}" });
    expect(c.slugs).toEqual(["codex", "my-agent"]);
    expect(c.models).toEqual(["qwen*", "gpt-*"]);
    expect(c.commands["my-agent"]?.template).toBe("my-agent run {prompt}");
  });

  it.each([
    [{ OPS_SERVICE_TOKEN: "" }, /no credential for the API: set OPS_WORKER_TOKEN_FILE .* issue one with POST \/api\/workers\/tokens or Ajustes → Workers/],
    [{ OPS_WORKER_TOKEN: "not-a-worker-token-0123456789" }, /OPS_WORKER_TOKEN: is not a worker token \(those start with opsw_/],
    [{ OPS_WORKER_TOKEN_FILE: "/nonexistent/worker-token" }, /OPS_WORKER_TOKEN_FILE: cannot read \/nonexistent\/worker-token \(ENOENT\)/],
    [{ OPS_API_BASE: "http://ops.example.com/api" }, /OPS_API_BASE: http:\/\/ops\.example\.com sends the launcher's token in clear text .* use https:\/\/, or set OPS_ALLOW_INSECURE_API=1/],
    [{ OPS_API_BASE: "http://10.0.0.5:3847/api" }, /OPS_API_BASE: http:\/\/10\.0\.0\.5:3847 sends the launcher's token in clear text/],
    [{ OPS_ALLOW_INSECURE_API: "yes" }, /OPS_ALLOW_INSECURE_API: must be 1/],
    [{ OPS_API_BASE: "http://host:3847/trpc" }, /OPS_API_BASE: must be the REST base URL ending in \/api/],
    [{ SUPPORTED_AGENT_SLUGS: "codex,Bad Slug" }, /SUPPORTED_AGENT_SLUGS: "Bad Slug" is not a valid slug/],
    [{ SUPPORTED_MODELS: "qwen*,gpt 4" }, /SUPPORTED_MODELS: "gpt 4" is not a valid model filter/],
    [{ OPS_HEARTBEAT_INTERVAL_MS: "45000" }, /OPS_HEARTBEAT_INTERVAL_MS/],
    [{ OPS_MAX_CONCURRENT: "0" }, /OPS_MAX_CONCURRENT/],
    [{ AGENT_CMD_CODEX: "codex exec 'oops" }, /AGENT_CMD_CODEX: unterminated single quote/],
    [{ AGENT_CREDENTIALS_CODEX: "keychain" }, /AGENT_CREDENTIALS_CODEX: "keychain" is not a credential check/],
    [{ OPS_WORKER_ID: "bad worker" }, /OPS_WORKER_ID/],
    [{ OPS_WORKER_ID: "w".repeat(201) }, /OPS_WORKER_ID: may contain letters, digits and \. _ : @ - only \(max 200\)/],
    [{ OPS_HEARTBEAT_INTERVAL_MS: "30001" }, /OPS_HEARTBEAT_INTERVAL_MS: must leave room for two missed beats inside the 90 s stale threshold \(max 30000\)/],
  ])("stops on invalid configuration naming the variable and why: %o", (over, message) => {
    expect(() => loadConfig({ ...base, ...over })).toThrow(ConfigError);
    expect(() => loadConfig({ ...base, ...over })).toThrow(message);
  });

  it("resolves the command: OPS launch_command, then AGENT_CMD_<SLUG>, then built-in", () => {
    const c = loadConfig({ ...base, AGENT_CMD_CODEX: "mycodex {prompt}" });
    expect(resolveCommand("codex", "ops-codex {prompt}", c)?.origin).toBe("launch_command in OPS");
    expect(resolveCommand("codex", null, c)?.origin).toBe("AGENT_CMD_CODEX");
    expect(resolveCommand("opencode", null, c)?.template).toBe(BUILTIN_COMMANDS.opencode);
    expect(resolveCommand("unknown", null, c)).toBeUndefined();
    for (const slug of ["opencode", "claudecode", "codex", "hermes"]) expect(BUILTIN_COMMANDS[slug]).toMatch(/\{prompt\}|< \{prompt_file\}/);
  });

  it("derives the tRPC URL from the REST base: same origin, the trailing /api replaced by /trpc", () => {
    expect(trpcUrlOf("http://host:3847/api")).toBe("http://host:3847/trpc");
    expect(trpcUrlOf("http://host:3847/api/")).toBe("http://host:3847/trpc");
    expect(trpcUrlOf("https://ops.example/ops/api")).toBe("https://ops.example/ops/trpc");
    expect(trpcUrlOf("https://ops.example/api/v2/api")).toBe("https://ops.example/api/v2/trpc");
    const proxied = loadConfig({ ...base, OPS_API_BASE: "https://ops.example/ops/api/" });
    expect(proxied).toMatchObject({ apiBase: "https://ops.example/ops/api", trpcUrl: "https://ops.example/ops/trpc" });
  });

  it.each(["http://host:3847/trpc", "http://host:3847/apis", "host:3847/api", "ftp://host/api", "http://user:pw@host/api", "http://host/api?x=1", "http://host/api#top", "not a url"])(
    "refuses a REST base no tRPC URL can come from: %s",
    (apiBase) => {
      expect(trpcUrlOf(apiBase)).toBeUndefined();
      expect(() => loadConfig({ ...base, OPS_API_BASE: apiBase })).toThrow("OPS_API_BASE: must be the REST base URL ending in /api, e.g. http://127.0.0.1:3847/api");
    },
  );

  it("parses env files the way systemd's EnvironmentFile reads them", () => {
    expect(parseEnvFile("# c\nA=1\nexport B='two words'\nC=\"x=y\"\n\nbad line\n")).toEqual({ A: "1", B: "two words", C: "x=y" });
  });
});

describe("credential rules", () => {
  const home = mkdtempSync(join(tmpdir(), "cred-home-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));

  it("claudecode: installed but neither ANTHROPIC_API_KEY nor a claude login is not usable", () => {
    const rule = builtinCredentialRule("claudecode", home);
    expect(checkCredentials(rule, {}).ok).toBe(false);
    expect(checkCredentials(rule, { ANTHROPIC_API_KEY: "sk-x" })).toEqual({ ok: true, detail: "env ANTHROPIC_API_KEY" });
    expect(checkCredentials(rule, { ANTHROPIC_API_KEY: "" }).ok).toBe(false);
    mkdirSync(join(home, ".claude"), { recursive: true });
    writeFileSync(join(home, ".claude/.credentials.json"), "{}");
    expect(checkCredentials(rule, {}).detail).toBe(`login file ${join(home, ".claude/.credentials.json")}`);
  });

  it("with an agent user, a login file counts only when that user can read it (its uid and primary group)", () => {
    if (process.getuid?.() !== 0) throw new Error("this case needs root (it hands a file to another uid); CI runs as root");
    const agentHome = mkdtempSync(join(tmpdir(), "cred-agent-home-"));
    try {
      const file = join(agentHome, ".codex/auth.json");
      mkdirSync(join(agentHome, ".codex"));
      writeFileSync(file, "{}", { mode: 0o600 });
      const rule = builtinCredentialRule("codex", agentHome);
      const reader = { uid: 54321, gid: 54321 };
      // Root's 0700 folder and 0600 file: root reads it, the agent user would not.
      expect(checkCredentials(rule, {}).ok).toBe(true);
      expect(checkCredentials(rule, {}, reader)).toEqual({ ok: false, detail: `none of: OPENAI_API_KEY, CODEX_API_KEY, ${file}` });
      chmodSync(agentHome, 0o755);
      chmodSync(join(agentHome, ".codex"), 0o755);
      chownSync(file, reader.uid, reader.gid);
      expect(checkCredentials(rule, {}, reader).ok).toBe(true);
    } finally {
      rmSync(agentHome, { recursive: true, force: true });
    }
  });

  it("codex needs OPENAI_API_KEY or its auth.json; a custom slug needs nothing unless told", () => {
    expect(checkCredentials(builtinCredentialRule("codex", home), {}).ok).toBe(false);
    expect(checkCredentials(builtinCredentialRule("codex", home), { OPENAI_API_KEY: "k" }).ok).toBe(true);
    expect(checkCredentials(builtinCredentialRule("my-agent", home), {}).ok).toBe(true);
  });

  it("is overridable: AGENT_CREDENTIALS_<SLUG>=env:NAME,file:PATH,none", () => {
    expect(parseCredentialRule("env:MY_KEY,file:~/.my/auth", "/h")).toEqual([
      { kind: "env", name: "MY_KEY" },
      { kind: "file", path: "/h/.my/auth" },
    ]);
    const c = loadConfig({ ...base, HOME: home, AGENT_CREDENTIALS_CODEX: "none", AGENT_CMD_CODEX: "/bin/true {prompt}" });
    expect(assessRuntime("codex", c).usable).toBe(true);
    const strict = loadConfig({ ...base, HOME: home, AGENT_CREDENTIALS_CODEX: "env:NOT_SET_ANYWHERE", AGENT_CMD_CODEX: "/bin/true {prompt}" });
    const a = assessRuntime("codex", strict);
    expect(a.usable).toBe(false);
    expect(a.problem).toMatch(/installed but not authenticated/);
  });

  it("a runtime whose program is not on PATH is not usable, with the runbook's signature", () => {
    const c = loadConfig({ ...base, HOME: home, PATH: "/nonexistent", OPENAI_API_KEY: "k" });
    expect(assessRuntime("codex", c)).toMatchObject({ usable: false, problem: "runtime no disponible en host: codex" });
  });
});

describe("prompt", () => {
  const task = { id: 9, title: "--help", description: "Fix it", model: null };
  it("starts with plain text, carries task and context, and says how to report back (runbook 3.2)", () => {
    const p = buildPrompt({ task, context: [{ kind: "note", source: "human", body: "use branch x", created_at: "t" }], apiBase: "http://h/api", attempt: 2 });
    expect(p.startsWith("You are an AI agent working on OPS Center task #9 (attempt 2)")).toBe(true);
    expect(p).toContain("Title: --help");
    expect(p).toContain("use branch x");
    expect(p).toContain('"kind":"deliverable"');
    expect(p).toContain("/comments");
    expect(p).toContain("X-OPS-Task-Token");
  });
  it("stays under one argv element's limit, dropping the oldest context first", () => {
    const big = "x".repeat(40_000);
    const context = [1, 2, 3, 4].map((i) => ({ kind: "note", source: "human" as const, body: `${i}${big}`, created_at: "t" }));
    const p = buildPrompt({ task, context, apiBase: "http://h/api", attempt: 1 });
    expect(Buffer.byteLength(p)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
    expect(p).toContain("older entries omitted");
    expect(p).toContain(`4${big}`);
    const huge = buildPrompt({ task: { ...task, description: "y".repeat(300_000) }, context: [], apiBase: "http://h/api", attempt: 1 });
    expect(Buffer.byteLength(huge)).toBeLessThanOrEqual(MAX_PROMPT_BYTES);
  });
});

describe("the launcher's credential", () => {
  const dir = mkdtempSync(join(tmpdir(), "launcher-cred-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const WORKER = "opsw_worker-token-for-config-tests-0123456789";
  const tokenFile = (name: string, content: string) => {
    const file = join(dir, name);
    writeFileSync(file, content, { mode: 0o600 });
    return file;
  };
  const env = { HOME: "/home/ops", PATH: "/usr/bin:/bin" };

  it("sends a worker token as X-OPS-Worker-Token, from the file, trimmed, and keeps every credential variable from the agents", () => {
    const file = tokenFile("worker-token", `${WORKER}\n`);
    const c = loadConfig({ ...env, OPS_WORKER_TOKEN_FILE: file });
    expect(c.credential).toEqual({ kind: "worker_token", header: "x-ops-worker-token", token: WORKER, source: `OPS_WORKER_TOKEN_FILE ${file}`, file, ignored: [] });
    expect(c.agentBaseEnv.OPS_WORKER_TOKEN_FILE).toBeUndefined();
    const fromEnv = loadConfig({ ...env, OPS_WORKER_TOKEN: WORKER, CREDENTIALS_DIRECTORY: dir });
    expect(fromEnv.credential).toMatchObject({ kind: "worker_token", source: "OPS_WORKER_TOKEN", token: WORKER });
    expect(fromEnv.agentBaseEnv.OPS_WORKER_TOKEN).toBeUndefined();
    expect(fromEnv.agentBaseEnv.CREDENTIALS_DIRECTORY).toBeUndefined();
    expect(fromEnv.agentBaseEnv.PATH).toBe("/usr/bin:/bin");
  });

  it("takes exactly one, in the documented order: systemd credential, OPS_WORKER_TOKEN_FILE, OPS_WORKER_TOKEN, OPS_SERVICE_TOKEN", () => {
    const credDir = join(dir, "credentials");
    mkdirSync(credDir, { recursive: true });
    writeFileSync(join(credDir, "ops-worker-token"), `${WORKER}-systemd`, { mode: 0o400 });
    const file = tokenFile("ordered", `${WORKER}-file`);
    const all = { ...env, CREDENTIALS_DIRECTORY: credDir, OPS_WORKER_TOKEN_FILE: file, OPS_WORKER_TOKEN: `${WORKER}-env`, OPS_SERVICE_TOKEN: "service-token-0123456789abcdef" };
    expect(loadConfig(all).credential).toMatchObject({ token: `${WORKER}-systemd`, source: "systemd credential ops-worker-token", ignored: ["OPS_WORKER_TOKEN", "OPS_SERVICE_TOKEN"] });
    expect(loadConfig({ ...all, CREDENTIALS_DIRECTORY: dir }).credential).toMatchObject({ token: `${WORKER}-file`, ignored: ["OPS_WORKER_TOKEN", "OPS_SERVICE_TOKEN"] });
    expect(loadConfig({ ...all, CREDENTIALS_DIRECTORY: undefined, OPS_WORKER_TOKEN_FILE: undefined }).credential).toMatchObject({ token: `${WORKER}-env`, ignored: ["OPS_SERVICE_TOKEN"] });
    const service = loadConfig({ ...env, OPS_SERVICE_TOKEN: "service-token-0123456789abcdef" }).credential;
    expect(service).toMatchObject({ kind: "service", header: "x-ops-service-token", source: "OPS_SERVICE_TOKEN", ignored: [] });
  });

  it("never quotes the token in a configuration error", () => {
    const file = tokenFile("two-lines", "opsw_first-part-of-a-secret second-part-of-a-secret\n");
    const errors = [
      () => loadConfig({ ...env, OPS_WORKER_TOKEN: "service-token-put-in-the-wrong-variable" }),
      () => loadConfig({ ...env, OPS_WORKER_TOKEN_FILE: file }),
      () => loadConfig({ ...env, OPS_WORKER_TOKEN_FILE: tokenFile("empty", "\n") }),
    ].map((f) => {
      try {
        f();
        return "no error";
      } catch (error) {
        return (error as Error).message;
      }
    });
    expect(errors[0]).toContain("OPS_WORKER_TOKEN: is not a worker token");
    expect(errors[1]).toContain(`OPS_WORKER_TOKEN_FILE: ${file} must hold the token alone, on one line`);
    expect(errors[2]).toContain("is empty; write the worker token into it");
    for (const message of errors) expect(message).not.toMatch(/service-token-put|first-part|second-part/);
  });

  it("allows plain http only to this machine, or with OPS_ALLOW_INSECURE_API=1", () => {
    for (const host of ["127.0.0.1", "127.8.9.10", "localhost", "LOCALHOST", "[::1]"]) expect(isLoopbackHost(new URL(`http://${host}:1/api`).hostname), host).toBe(true);
    for (const host of ["10.0.0.1", "128.0.0.1", "127.0.0.1.nip.io", "localhost.example.com", "[::2]", "0.0.0.0"]) expect(isLoopbackHost(new URL(`http://${host}:1/api`).hostname), host).toBe(false);
    const withToken = { ...env, OPS_SERVICE_TOKEN: "service-token-0123456789abcdef" };
    expect(loadConfig({ ...withToken, OPS_API_BASE: "https://ops.example.com/api" }).insecureApi).toBe(false);
    expect(loadConfig({ ...withToken, OPS_API_BASE: "http://[::1]:3847/api" }).insecureApi).toBe(false);
    expect(loadConfig({ ...withToken, OPS_API_BASE: "http://ops.example.com/api", OPS_ALLOW_INSECURE_API: "1" }).insecureApi).toBe(true);
  });

  it("drops the credential variables from the process environment once read", () => {
    const target: NodeJS.ProcessEnv = { OPS_WORKER_TOKEN: WORKER, OPS_WORKER_TOKEN_FILE: "/f", OPS_SERVICE_TOKEN: "s", CREDENTIALS_DIRECTORY: "/run/c", PATH: "/bin" };
    dropCredentialEnv(target);
    expect(target).toEqual({ PATH: "/bin" });
  });
});

describe("launcher process start", () => {
  const home = mkdtempSync(join(tmpdir(), "launcher-home-"));
  afterAll(() => rmSync(home, { recursive: true, force: true }));
  const start = (env: Record<string, string>) =>
    spawnSync(process.execPath, ["--import", "tsx", LAUNCHER_MAIN], {
      cwd: REPO_ROOT,
      env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: home, ...env },
      encoding: "utf8",
      timeout: 30_000,
    });

  it("stops at start with exit 2, naming the variable and why", () => {
    const result = start({ OPS_SERVICE_TOKEN: "t", OPS_API_BASE: "http://127.0.0.1:3847/trpc", OPS_LAUNCHER_LOG: "-" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("OPS_API_BASE: must be the REST base URL ending in /api");
  });

  it("stops at start when OPS_AGENT_USER names root or a missing user, saying what to do", () => {
    const root = start({ OPS_SERVICE_TOKEN: "t", OPS_LAUNCHER_LOG: "-", OPS_AGENT_USER: "root" });
    expect(root.status).toBe(2);
    expect(root.stderr).toContain('OPS_AGENT_USER: "root" is root (uid 0): agents would hold the launcher\'s powers; name an unprivileged user');
    const missing = start({ OPS_SERVICE_TOKEN: "t", OPS_LAUNCHER_LOG: "-", OPS_AGENT_USER: "no-such-ops-agent" });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain('OPS_AGENT_USER: no Unix user "no-such-ops-agent" on this host; create it (useradd --system --create-home no-such-ops-agent)');
  });

  it("stops with exit 2 and says how to get a worker token when no credential is set", () => {
    const result = start({ OPS_LAUNCHER_LOG: "-" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("no credential for the API: set OPS_WORKER_TOKEN_FILE");
    expect(result.stderr).toContain("issue one with POST /api/workers/tokens or Ajustes → Workers");
  });

  it("refuses plain http to another host at start, without a word of the token", () => {
    const token = "opsw_start-refused-token-0123456789abcdef";
    const file = join(home, "worker-token");
    writeFileSync(file, token);
    chmodSync(file, 0o600);
    const result = start({ OPS_WORKER_TOKEN_FILE: file, OPS_API_BASE: "http://ops.example.com/api", OPS_LAUNCHER_LOG: "-" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("OPS_API_BASE: http://ops.example.com sends the launcher's token in clear text to a host that is not this machine: use https://");
    expect(`${result.stdout}${result.stderr}`).not.toContain(token);
  });

  it("refuses a worker log it cannot write", () => {
    const result = start({ OPS_SERVICE_TOKEN: "t", OPS_LAUNCHER_LOG: "/dev/null/launcher.log" });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain("OPS_LAUNCHER_LOG: cannot write /dev/null/launcher.log");
  });
});

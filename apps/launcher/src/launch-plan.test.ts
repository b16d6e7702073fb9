import type { TAgent, TTask } from "@ops/contract";
import { describe, expect, it } from "vitest";
import { agentUserProblem, ConfigError, type ConfigHost, loadConfig } from "./env.ts";
import type { UnixUser } from "./unix-user.ts";
import { type Claim, type LaunchHost, planLaunch } from "./launch-plan.ts";

const config = loadConfig({
  OPS_SERVICE_TOKEN: "service-token-never-for-agents",
  OPS_WORKER_ID: "w1",
  OPS_API_BASE: "https://ops.test/api",
  OPS_LAUNCHER_LOG_DIR: "/logs",
  OPS_WORKDIR_ROOTS: "/work/roots,/srv",
  HOME: "/home/ops",
  PATH: "/opt/bin:/usr/bin",
  SUPPORTED_AGENT_SLUGS: "codex,my-agent,echoer",
  AGENT_CMD_ECHOER: "echoer run --task={task_id} [--model {model}] {prompt}",
});

const task: TTask = {
  id: 41,
  workspace_id: 1,
  title: "$(touch /tmp/pwned) --help",
  description: "Fix `it`; rm -rf /",
  status: "dispatching",
  execution: "interactive",
  agent_id: 3,
  agent_slug: "echoer",
  model: null,
  priority: 0,
  working_dir: null,
  run_timeout_minutes: null,
  sensitive: false,
  approved_at: null,
  approved_by: null,
  blocked: false,
  blocked_reason: null,
  dispatch_output: null,
  claimed_by: "w1",
  claimed_at: "2026-11-30T06:00:00.000Z",
  claim_attempt: 2,
  queued_at: null,
  started_at: null,
  finished_at: null,
  failure_count: 0,
  cancel_requested_at: null,
  archived: false,
  created_by: "admin",
  created_at: "2026-11-30T05:00:00.000Z",
  updated_at: "2026-11-30T06:00:00.000Z",
};
const agent: TAgent = {
  id: 3,
  workspace_id: 1,
  slug: "echoer",
  name: "Echoer",
  active: true,
  launch_command: null,
  default_model: null,
  working_dir: null,
  run_timeout_minutes: null,
  created_at: "2026-11-30T05:00:00.000Z",
  updated_at: "2026-11-30T05:00:00.000Z",
};
const claimOf = (over: { task?: Partial<TTask>; agent?: Partial<TAgent> } = {}): Claim => ({
  claimed: true,
  task: { ...task, ...over.task },
  agent: { ...agent, ...over.agent },
  context: [],
  attempt: 2,
  task_token: "task-token-for-41-attempt-2",
  run_id: 9,
  run_timeout_minutes: 120,
});

/**
 * A host where the named programs are installed in /opt/bin and the named
 * folders exist; `links` are symlinks (path → real path).
 */
const host = (programs: string[], folders = ["/work/roots", "/srv", "/srv/repo", "/etc"], links: Record<string, string> = {}): LaunchHost => ({
  findOnPath: (program) => (program.startsWith("/") ? program : programs.includes(program) ? `/opt/bin/${program}` : undefined),
  workdirProblem: (dir) => (folders.includes(dir) || dir in links ? undefined : "ENOENT"),
  realpath: (path) => links[path] ?? (folders.includes(path) || path.startsWith("/opt/bin/") || path.startsWith("/bin/") ? path : undefined),
  now: new Date("2026-11-30T06:00:01.234Z"),
});

describe("launch plan", () => {
  it("fills the AGENT_CMD_<SLUG> template: the resolved program, each task text one argument, an empty optional group dropped", () => {
    const result = planLaunch(claimOf(), config, host(["echoer"]));
    if (!result.ok) throw new Error(result.reason);
    const { plan } = result;
    expect(plan.command.origin).toBe("AGENT_CMD_ECHOER");
    expect(plan.argv).toHaveLength(4);
    expect(plan.argv.slice(0, 3)).toEqual(["/opt/bin/echoer", "run", "--task=41"]);
    expect(plan.argv[3]).toBe(plan.prompt);
    expect(plan.prompt).toContain("Title: $(touch /tmp/pwned) --help");
    expect(plan.reportedCommand[0]).toBe("echoer");
    expect(plan).toMatchObject({ taskId: 41, attempt: 2, slug: "echoer", workdir: "/work/roots/task-41", createWorkdir: true, runAs: undefined });
    expect(plan.files).toEqual({
      logPath: "/logs/41-20261130T060001234Z.log",
      errLogPath: "/logs/41-20261130T060001234Z.err.log",
      exitPath: "/logs/41-20261130T060001234Z.exit",
      promptPath: "/logs/41-20261130T060001234Z.prompt.md",
    });
  });

  it("gives the agent its task token and task, never the service token", () => {
    const result = planLaunch(claimOf(), config, host(["echoer"]));
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.env).toMatchObject({
      OPS_API_BASE: "https://ops.test/api",
      OPS_TASK_ID: "41",
      OPS_TASK_ATTEMPT: "2",
      OPS_TASK_TOKEN: "task-token-for-41-attempt-2",
      OPS_TASK_PROMPT_FILE: "/logs/41-20261130T060001234Z.prompt.md",
    });
    expect(result.plan.env.OPS_SERVICE_TOKEN).toBeUndefined();
    expect(JSON.stringify(result.plan)).not.toContain("service-token-never-for-agents");
  });

  it("takes the model from the task, else the agent's default, and the folder from the task, else the agent", () => {
    const fromTask = planLaunch(claimOf({ task: { model: "qwen3.6", working_dir: "/srv/repo" }, agent: { default_model: "gpt-5" } }), config, host(["echoer"]));
    expect(fromTask.ok && fromTask.plan.argv.slice(3, 5)).toEqual(["--model", "qwen3.6"]);
    expect(fromTask.ok && fromTask.plan.workdir).toBe("/srv/repo");
    expect(fromTask.ok && fromTask.plan.createWorkdir).toBe(false);
    const fromAgent = planLaunch(claimOf({ agent: { default_model: "gpt-5", working_dir: "/srv/repo" } }), config, host(["echoer"]));
    expect(fromAgent.ok && fromAgent.plan.argv.slice(3, 5)).toEqual(["--model", "gpt-5"]);
    expect(fromAgent.ok && fromAgent.plan.workdir).toBe("/srv/repo");
  });

  it("prefers the agent's launch_command in OPS over AGENT_CMD_<SLUG>", () => {
    const result = planLaunch(claimOf({ agent: { launch_command: "codex exec {prompt}" } }), config, host(["echoer", "codex"]));
    expect(result.ok && result.plan.command.origin).toBe("launch_command in OPS");
    expect(result.ok && result.plan.argv[0]).toBe("/opt/bin/codex");
  });

  it("refuses a CLI this host lacks with the runbook's signature, exactly, and says where the command came from", () => {
    const result = planLaunch(claimOf({ agent: { slug: "codex" } }), config, host([]));
    expect(result).toEqual({
      ok: false,
      reason: "runtime no disponible en host: codex",
      evidence: expect.stringContaining("command (built-in): codex exec"),
    });
    expect(!result.ok && result.evidence).toContain("worker: w1\nPATH=/opt/bin:/usr/bin");
  });

  it("refuses a slug with no command anywhere, naming the variable to set", () => {
    expect(planLaunch(claimOf({ agent: { slug: "my-agent" } }), config, host([]))).toEqual({
      ok: false,
      reason: "no launch command for agent my-agent on w1: set AGENT_CMD_MY_AGENT or the agent's launch_command",
    });
  });

  it("refuses an unparsable launch_command, quoting it as evidence", () => {
    expect(planLaunch(claimOf({ agent: { launch_command: "cli 'oops {prompt}" } }), config, host(["cli"]))).toEqual({
      ok: false,
      reason: "invalid launch command for agent echoer: unterminated single quote at character 5",
      evidence: "launch_command in OPS: cli 'oops {prompt}",
    });
  });

  it("refuses a model name that would read as an option, and a working directory that is not there", () => {
    expect(planLaunch(claimOf({ task: { model: "--yolo" } }), config, host(["echoer"]))).toEqual({
      ok: false,
      reason: 'refusing model name "--yolo": it would read as an option',
    });
    expect(planLaunch(claimOf({ task: { working_dir: "/srv/gone" } }), config, host(["echoer"]))).toEqual({
      ok: false,
      reason: "working directory not usable: /srv/gone (ENOENT)",
      evidence: "worker: w1\nOPS_WORKDIR_ROOTS=/work/roots,/srv",
    });
  });

  it("shortens arguments over 2000 characters in the reported command, pointing at the prompt file", () => {
    const result = planLaunch(claimOf({ task: { description: "x".repeat(5000) } }), config, host(["echoer"]));
    if (!result.ok) throw new Error(result.reason);
    const reportedPrompt = result.plan.reportedCommand.at(-1)!;
    expect(reportedPrompt.length).toBeLessThan(400);
    expect(reportedPrompt).toMatch(/… \(\d+ chars; full text in \/logs\/41-20261130T060001234Z\.prompt\.md\)$/);
    expect(result.plan.argv.at(-1)).toBe(result.plan.prompt);
  });

  it("gives the agent an allowlisted environment: never the launcher's token, database URL or anything unlisted", () => {
    const scrubbed = loadConfig({
      OPS_SERVICE_TOKEN: "service-token-never-for-agents",
      // The launcher's credential (and a second one it ignores): neither reaches the agent.
      OPS_WORKER_TOKEN: "opsw_worker-token-never-for-agents",
      DATABASE_URL: "postgres://ops:secret@db/ops",
      PGPASSWORD: "secret",
      AWS_SECRET_ACCESS_KEY: "an-unrelated-secret",
      OPS_API_BASE: "https://ops.test/api",
      OPS_WORKDIR_ROOTS: "/work/roots",
      OPS_AGENT_ENV_ALLOW: "MY_TOOL_CONFIG, CORP_*",
      HOME: "/home/ops",
      USER: "ops",
      PATH: "/opt/bin:/usr/bin",
      LANG: "es_ES.UTF-8",
      LC_ALL: "es_ES.UTF-8",
      TZ: "Europe/Madrid",
      TERM: "xterm",
      HTTPS_PROXY: "http://proxy:3128",
      no_proxy: "localhost",
      SUPPORTED_AGENT_SLUGS: "codex,echoer",
      AGENT_CMD_ECHOER: "echoer {prompt}",
      AGENT_CREDENTIALS_ECHOER: "env:ECHOER_KEY",
      ECHOER_KEY: "echoer-key",
      OPENAI_API_KEY: "sk-openai",
      CODEX_HOME: "/home/ops/.codex",
      ANTHROPIC_API_KEY: "sk-ant-not-a-supported-runtime-here",
      MY_TOOL_CONFIG: "/etc/my-tool",
      CORP_CA: "/etc/corp-ca.pem",
    });
    const result = planLaunch(claimOf(), scrubbed, host(["echoer"]));
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.env).toEqual({
      HOME: "/home/ops",
      USER: "ops",
      PATH: "/opt/bin:/usr/bin",
      LANG: "es_ES.UTF-8",
      LC_ALL: "es_ES.UTF-8",
      TZ: "Europe/Madrid",
      TERM: "xterm",
      HTTPS_PROXY: "http://proxy:3128",
      no_proxy: "localhost",
      ECHOER_KEY: "echoer-key",
      OPENAI_API_KEY: "sk-openai",
      CODEX_HOME: "/home/ops/.codex",
      MY_TOOL_CONFIG: "/etc/my-tool",
      CORP_CA: "/etc/corp-ca.pem",
      OPS_API_BASE: "https://ops.test/api",
      OPS_TASK_ID: "41",
      OPS_TASK_ATTEMPT: "2",
      OPS_TASK_TOKEN: "task-token-for-41-attempt-2",
      OPS_TASK_PROMPT_FILE: expect.stringMatching(/\.prompt\.md$/),
    });
  });

  it("refuses to pass the launcher's own variables even when OPS_AGENT_ENV_ALLOW names them", () => {
    for (const name of ["OPS_SERVICE_TOKEN", "OPS_*", "DATABASE_URL", "CREDENTIALS_DIRECTORY"]) {
      expect(() => loadConfig({ OPS_SERVICE_TOKEN: "t", OPS_AGENT_ENV_ALLOW: name })).toThrow(ConfigError);
      expect(() => loadConfig({ OPS_SERVICE_TOKEN: "t", OPS_AGENT_ENV_ALLOW: name })).toThrow(`OPS_AGENT_ENV_ALLOW: ${name} is the launcher's own`);
    }
  });

  it("keeps working folders under OPS_WORKDIR_ROOTS: symlinks followed, options and relative paths refused", () => {
    const planned = (dir: string, links: Record<string, string> = {}) => planLaunch(claimOf({ task: { working_dir: dir } }), config, host(["echoer"], undefined, links));
    expect(planned("/etc")).toEqual({
      ok: false,
      reason: "working folder /etc is outside this host's OPS_WORKDIR_ROOTS (/work/roots, /srv)",
      evidence: "worker: w1\nOPS_WORKDIR_ROOTS=/work/roots,/srv",
      code: "WORKDIR_NOT_ALLOWED",
    });
    expect(planned("/srv/escape", { "/srv/escape": "/etc" })).toMatchObject({
      ok: false,
      reason: "working folder /srv/escape (resolves to /etc) is outside this host's OPS_WORKDIR_ROOTS (/work/roots, /srv)",
    });
    // A prefix of a root's name is not inside it.
    expect(planned("/srvx", { "/srvx": "/srvx" })).toMatchObject({ ok: false, code: "WORKDIR_NOT_ALLOWED" });
    expect(planned("-rf")).toMatchObject({ ok: false, reason: 'refusing working folder "-rf": it would read as an option' });
    expect(planned("repo")).toMatchObject({ ok: false, reason: 'refusing working folder "repo": not an absolute path' });
    // Inside a root through a symlink: the agent works in the real folder.
    const linked = planned("/work/roots/link", { "/work/roots/link": "/srv/repo" });
    expect(linked.ok && linked.plan.workdir).toBe("/srv/repo");
    expect(planned("/srv").ok).toBe(true);
    expect(() => loadConfig({ OPS_SERVICE_TOKEN: "t", OPS_WORKDIR_ROOTS: "/" })).toThrow('OPS_WORKDIR_ROOTS: "/" would let a task pick any folder');
    expect(() => loadConfig({ OPS_SERVICE_TOKEN: "t", OPS_WORKDIR_ROOTS: "work" })).toThrow('OPS_WORKDIR_ROOTS: "work" must be an absolute path');
    // The deprecated OPS_DEFAULT_WORKDIR is the one root when OPS_WORKDIR_ROOTS is unset.
    expect(loadConfig({ OPS_SERVICE_TOKEN: "t", OPS_DEFAULT_WORKDIR: "/srv/agents" }).workdirRoots).toEqual(["/srv/agents"]);
    expect(loadConfig({ OPS_SERVICE_TOKEN: "t", HOME: "/home/ops" }).workdirRoots).toEqual(["/home/ops/ops-workdirs"]);
  });

  it("runs an OPS launch_command only when its program is allowed on this host", () => {
    const viaOps = (launchCommand: string, c = config, programs = ["echoer", "codex", "sh"], links: Record<string, string> = {}) =>
      planLaunch(claimOf({ agent: { launch_command: launchCommand } }), c, host(programs, undefined, links));
    expect(viaOps("/bin/sh -c 'id > /tmp/pwned'")).toEqual({
      ok: false,
      reason: "launch_command program /bin/sh is not allowed on this host; add it to OPS_ALLOWED_PROGRAMS",
      evidence: "launch_command in OPS: /bin/sh -c 'id > /tmp/pwned'\nworker: w1\nallowed programs (default): opencode, claude, codex, hermes, echoer",
      code: "PROGRAM_NOT_ALLOWED",
    });
    expect(viaOps("sh -c id")).toMatchObject({ ok: false, reason: "launch_command program /opt/bin/sh is not allowed on this host; add it to OPS_ALLOWED_PROGRAMS" });
    // Defaults: the runtimes' binaries and AGENT_CMD_*'s programs, as resolved on PATH (or the same file through a link).
    expect(viaOps("codex exec {prompt}").ok).toBe(true);
    expect(viaOps("echoer {prompt}").ok).toBe(true);
    expect(viaOps("/opt/bin/echoer {prompt}").ok).toBe(true);
    expect(viaOps("/usr/local/bin/codex {prompt}", config, ["codex"], { "/usr/local/bin/codex": "/opt/bin/codex" }).ok).toBe(true);
    // OPS_ALLOWED_PROGRAMS replaces the default.
    const only = loadConfig({ OPS_SERVICE_TOKEN: "t", OPS_WORKDIR_ROOTS: "/work/roots", PATH: "/opt/bin", SUPPORTED_AGENT_SLUGS: "echoer", AGENT_CMD_ECHOER: "echoer {prompt}", OPS_ALLOWED_PROGRAMS: "/opt/bin/my-agent" });
    expect(only.allowedProgramsSource).toBe("OPS_ALLOWED_PROGRAMS");
    expect(viaOps("/opt/bin/my-agent {prompt}", only).ok).toBe(true);
    expect(viaOps("codex exec {prompt}", only)).toMatchObject({ ok: false, code: "PROGRAM_NOT_ALLOWED" });
    // The host's own commands are the operator's: never checked against the list.
    expect(planLaunch(claimOf(), only, host(["echoer"])).ok).toBe(true);
  });

  it("with OPS_AGENT_USER: runs as that user, its HOME and its own copy of the prompt, the default folder under its home", () => {
    const agentUser: UnixUser = { name: "ops-agent", uid: 991, gid: 987, home: "/var/lib/ops-agent", shell: "/usr/sbin/nologin" };
    const users: ConfigHost = { lookupUser: (name) => (name === "ops-agent" ? agentUser : name === "root" ? { ...agentUser, name: "root", uid: 0, gid: 0, home: "/root" } : undefined) };
    const base = { OPS_SERVICE_TOKEN: "service-token-never-for-agents", OPS_LAUNCHER_LOG_DIR: "/logs", HOME: "/root", USER: "root", PATH: "/opt/bin", SUPPORTED_AGENT_SLUGS: "echoer", AGENT_CMD_ECHOER: "echoer {prompt_file}" };
    const asAgent = loadConfig({ ...base, OPS_AGENT_USER: "ops-agent" }, users);
    expect(asAgent.workdirRoots).toEqual(["/var/lib/ops-agent/ops-workdirs"]);
    const result = planLaunch(claimOf(), asAgent, host(["echoer"], ["/var/lib/ops-agent/ops-workdirs"]));
    if (!result.ok) throw new Error(result.reason);
    const agentPrompt = "/var/lib/ops-agent/.ops-prompts/41-20261130T060001234Z.prompt.md";
    expect(result.plan).toMatchObject({ runAs: { uid: 991, gid: 987 }, workdir: "/var/lib/ops-agent/ops-workdirs/task-41", createWorkdir: true, agentPromptPath: agentPrompt });
    expect(result.plan.argv).toEqual(["/opt/bin/echoer", agentPrompt]);
    expect(result.plan.files.promptPath).toBe("/logs/41-20261130T060001234Z.prompt.md");
    expect(result.plan.env).toMatchObject({ HOME: "/var/lib/ops-agent", USER: "ops-agent", LOGNAME: "ops-agent", SHELL: "/bin/sh", OPS_TASK_PROMPT_FILE: agentPrompt });
    expect(JSON.stringify(result.plan.env)).not.toContain("/root");

    expect(() => loadConfig({ ...base, OPS_AGENT_USER: "nobody-here" }, users)).toThrow(
      'OPS_AGENT_USER: no Unix user "nobody-here" on this host; create it (useradd --system --create-home nobody-here) or unset OPS_AGENT_USER',
    );
    expect(() => loadConfig({ ...base, OPS_AGENT_USER: "root" }, users)).toThrow('OPS_AGENT_USER: "root" is root (uid 0)');
    expect(() => loadConfig({ ...base, OPS_AGENT_USER: "-x" }, users)).toThrow('OPS_AGENT_USER: "-x" is not a Unix user name');
    expect(agentUserProblem(asAgent, 1000)).toMatch(/^OPS_AGENT_USER: the launcher runs as uid 1000, not root, so it cannot start agents as "ops-agent"/);
    expect(agentUserProblem(asAgent, 0)).toBeUndefined();
  });
});

import type { TAgent, TTask } from "@ops/contract";
import { describe, expect, it } from "vitest";
import { loadConfig } from "./env.ts";
import { type Claim, type LaunchHost, planLaunch } from "./launch-plan.ts";

const config = loadConfig({
  OPS_SERVICE_TOKEN: "service-token-never-for-agents",
  OPS_WORKER_ID: "w1",
  OPS_API_BASE: "https://ops.test/api",
  OPS_LAUNCHER_LOG_DIR: "/logs",
  OPS_DEFAULT_WORKDIR: "/work/default",
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

/** A host where the named programs are installed in /opt/bin and the named folders exist. */
const host = (programs: string[], folders = ["/work/default", "/srv/repo"]): LaunchHost => ({
  findOnPath: (program) => (programs.includes(program) ? `/opt/bin/${program}` : undefined),
  workdirProblem: (dir) => (folders.includes(dir) ? undefined : "ENOENT"),
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
    expect(plan).toMatchObject({ taskId: 41, attempt: 2, slug: "echoer", workdir: "/work/default" });
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
    const fromAgent = planLaunch(claimOf({ agent: { default_model: "gpt-5", working_dir: "/srv/repo" } }), config, host(["echoer"]));
    expect(fromAgent.ok && fromAgent.plan.argv.slice(3, 5)).toEqual(["--model", "gpt-5"]);
    expect(fromAgent.ok && fromAgent.plan.workdir).toBe("/srv/repo");
  });

  it("prefers the agent's launch_command in OPS over AGENT_CMD_<SLUG>", () => {
    const result = planLaunch(claimOf({ agent: { launch_command: "ops-cli go {prompt}" } }), config, host(["echoer", "ops-cli"]));
    expect(result.ok && result.plan.command.origin).toBe("launch_command in OPS");
    expect(result.ok && result.plan.argv[0]).toBe("/opt/bin/ops-cli");
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
    expect(planLaunch(claimOf({ task: { working_dir: "/gone" } }), config, host(["echoer"]))).toEqual({
      ok: false,
      reason: "working directory not usable: /gone (ENOENT)",
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
});

import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.ts";
import { type Claim, type LaunchHost, planLaunch } from "../src/launch-plan.ts";

// The launch plan for the built-in commands: the prompt goes in on stdin (the
// prompt file), and no argument carries the task's text.
const config = loadConfig({
  OPS_SERVICE_TOKEN: "service-token-never-for-agents",
  OPS_WORKER_ID: "w1",
  OPS_API_BASE: "http://ops.test/api",
  OPS_LAUNCHER_LOG_DIR: "/logs",
  OPS_DEFAULT_WORKDIR: "/work/default",
  HOME: "/home/ops",
  PATH: "/opt/bin",
  SUPPORTED_AGENT_SLUGS: "codex,claudecode,opencode,hermes,echoer",
  AGENT_CMD_ECHOER: "echoer {prompt}",
});
const host: LaunchHost = { findOnPath: (program) => `/opt/bin/${program}`, workdirProblem: () => undefined, now: new Date("2026-11-30T06:00:01.234Z") };
const DESCRIPTION = "the task's private text: rotate the database password";
const claimFor = (slug: string) =>
  ({
    claimed: true,
    task: { id: 41, title: "Private task", description: DESCRIPTION, model: null, working_dir: null },
    agent: { slug, launch_command: null, default_model: null, working_dir: null },
    context: [],
    attempt: 2,
    task_token: "task-token-for-41-attempt-2",
  }) as unknown as Claim;

describe("launch plan: the prompt on stdin", () => {
  it.each(["codex", "claudecode", "opencode"])("%s reads its prompt file as stdin; its argv has none of the task's text", (slug) => {
    const result = planLaunch(claimFor(slug), config, host);
    if (!result.ok) throw new Error(result.reason);
    expect(result.plan.stdinPath).toBe("/logs/41-20261130T060001234Z.prompt.md");
    expect(result.plan.stdinPath).toBe(result.plan.files.promptPath);
    expect(result.plan.prompt).toContain(DESCRIPTION);
    expect(result.plan.argv.join("\n")).not.toContain(DESCRIPTION);
    expect(result.plan.reportedCommand.join("\n")).not.toContain(DESCRIPTION);
  });

  it("gives a {prompt} template no stdin: the prompt is its argument", () => {
    for (const slug of ["echoer", "hermes"]) {
      const result = planLaunch(claimFor(slug), config, host);
      if (!result.ok) throw new Error(result.reason);
      expect(result.plan.stdinPath).toBeUndefined();
      expect(result.plan.argv.join("\n")).toContain(DESCRIPTION);
    }
  });
});

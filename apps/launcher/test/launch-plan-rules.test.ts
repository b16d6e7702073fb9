import { describe, expect, it } from "vitest";
import { loadConfig } from "../src/env.ts";
import { type Claim, type LaunchHost, planLaunch } from "../src/launch-plan.ts";

// The launch plan beyond launch-plan.test.ts: the built-in commands take the
// prompt on stdin (the prompt file), so no argument carries the task's text;
// the started report shortens only arguments over its 2000-character cap.
const config = loadConfig({
  OPS_SERVICE_TOKEN: "service-token-never-for-agents",
  OPS_WORKER_ID: "w1",
  OPS_API_BASE: "https://ops.test/api",
  OPS_LAUNCHER_LOG_DIR: "/logs",
  OPS_DEFAULT_WORKDIR: "/work/default",
  HOME: "/home/ops",
  PATH: "/opt/bin",
  SUPPORTED_AGENT_SLUGS: "codex,claudecode,opencode,hermes,echoer,long",
  AGENT_CMD_ECHOER: "echoer {prompt}",
  AGENT_CMD_LONG: "long {prompt}",
});
const host: LaunchHost = { findOnPath: (program) => `/opt/bin/${program}`, workdirProblem: () => undefined, realpath: (path) => path, now: new Date("2026-11-30T06:00:01.234Z") };
const DESCRIPTION = "the task's private text: rotate the database password";
const claimFor = (slug: string, description = DESCRIPTION) =>
  ({
    claimed: true,
    task: { id: 41, title: "Private task", description, model: null, working_dir: null },
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

describe("launch plan: the started report's command", () => {
  it("keeps an argument of up to 2000 characters whole and shortens a longer one, pointing at the prompt file", () => {
    const promptOf = (description: string) => {
      const result = planLaunch(claimFor("long", description), config, host);
      if (!result.ok) throw new Error(result.reason);
      return result.plan;
    };
    const base = promptOf("").prompt.length;
    const atCap = promptOf("x".repeat(2000 - base + "(no description)".length));
    expect(atCap.prompt).toHaveLength(2000);
    expect(atCap.reportedCommand[1]).toBe(atCap.prompt);
    const overCap = promptOf("x".repeat(2001 - base + "(no description)".length));
    expect(overCap.reportedCommand[1]).toBe(`${overCap.prompt.slice(0, 200)}… (2001 chars; full text in ${overCap.files.promptPath})`);
    expect(overCap.argv[1]).toBe(overCap.prompt);
  });
});

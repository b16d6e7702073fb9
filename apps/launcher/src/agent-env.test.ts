import { describe, expect, it } from "vitest";
import { agentEnvironment } from "./agent-env.ts";

// What a launcher host might hold besides the agents' own variables.
const launcherEnv = {
  PATH: "/usr/bin:/bin",
  HOME: "/root",
  LANG: "C.UTF-8",
  OPS_SERVICE_TOKEN: "svc-0123456789abcdef0123456789",
  OPS_WORKER_TOKEN: "opsw_0123456789abcdef",
  CREDENTIALS_DIRECTORY: "/run/credentials/ops-dispatch-launcher.service",
  DATABASE_URL: "postgres://ops:secret@db/ops",
  PGPASSWORD: "secret",
  AGENT_CMD_CODEX: "codex exec -",
  ANTHROPIC_API_KEY: "sk-ant-agent-key",
  UNRELATED_SECRET: "nope",
};

describe("the environment an agent gets", () => {
  it("is an allowlist: the base variables and the runtime's own, nothing else the launcher holds", () => {
    const env = agentEnvironment(launcherEnv, { slugs: ["claudecode"], rules: {}, extra: [], agentHome: "/root" });
    expect(env).toEqual({ PATH: "/usr/bin:/bin", HOME: "/root", LANG: "C.UTF-8", ANTHROPIC_API_KEY: "sk-ant-agent-key" });
  });

  it("never passes the launcher's own variables, even when a credential rule or the operator's list names them", () => {
    const env = agentEnvironment(launcherEnv, {
      slugs: ["codex"],
      // A host operator's mistake (or a copied rule): AGENT_CREDENTIALS_CODEX=env:OPS_SERVICE_TOKEN,env:DATABASE_URL
      rules: { codex: [{ kind: "env", name: "OPS_SERVICE_TOKEN" }, { kind: "env", name: "DATABASE_URL" }] },
      extra: ["OPS_WORKER_TOKEN", "PG*", "CREDENTIALS_DIRECTORY", "AGENT_CMD_*", "UNRELATED_SECRET"],
      agentHome: "/root",
    });
    expect(Object.keys(env).sort()).toEqual(["HOME", "LANG", "PATH", "UNRELATED_SECRET"]);
  });

  it("gives an agent user its own HOME, USER, LOGNAME and a usable SHELL", () => {
    const env = agentEnvironment(launcherEnv, {
      slugs: [],
      rules: {},
      extra: [],
      agentHome: "/home/ops-agent",
      agentUser: { name: "ops-agent", uid: 998, gid: 998, home: "/home/ops-agent", shell: "/usr/sbin/nologin" },
    });
    expect(env).toMatchObject({ HOME: "/home/ops-agent", USER: "ops-agent", LOGNAME: "ops-agent", SHELL: "/bin/sh" });
  });
});

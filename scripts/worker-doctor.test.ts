import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { REPO_ROOT } from "../tests/support/spawn-api.ts";

// `npm run worker:doctor` as the runbook runs it from the project root: a
// failing doctor exits non-zero and prints only its own report (the package
// manager's recursive-run error used to follow it despite --silent).

const home = mkdtempSync(join(tmpdir(), "doctor-root-"));
afterAll(() => rmSync(home, { recursive: true, force: true }));

describe("npm run worker:doctor", () => {
  it("fails with the runbook's MISSING line and nothing from the package manager", () => {
    const result = spawnSync("npm", ["run", "worker:doctor"], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 60_000,
      env: {
        // No agent CLI on PATH, an API nobody answers on: the doctor must fail.
        PATH: `${dirname(process.execPath)}:/usr/bin:/bin`,
        HOME: home,
        OPS_API_BASE: "http://127.0.0.1:9/api",
        OPS_SERVICE_TOKEN: "doctor-test-token-0123456789abcdef",
        OPS_LAUNCHER_LOG: "-",
        OPS_LAUNCHER_ENV_FILE: "",
        SUPPORTED_AGENT_SLUGS: "codex",
        // npm's own "new version" notice is not the doctor's output.
        NPM_CONFIG_UPDATE_NOTIFIER: "false",
      },
    });
    expect(result.status).toBe(1);
    const report = result.stdout.split("\n").filter((line) => line.startsWith("[doctor]"));
    expect(report.at(-1)).toBe("[doctor] FAIL MISSING runtime: codex; failed: api");
    expect(report.join("\n")).toContain("runtime no disponible en host: codex");
    expect(`${result.stdout}${result.stderr}`).not.toMatch(/ERR_PNPM|ELIFECYCLE|npm error/i);
    expect(result.stderr).toBe("");
  });
});

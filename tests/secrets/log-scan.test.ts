import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { TEST_LOG_DIR } from "../support/log-dir.ts";
import { REPO_ROOT } from "../support/spawn-api.ts";

// Runs after the other suites (pnpm test's second step): reads every log they
// wrote and the built SPA, looking for the credentials the suites used.
const SECRETS = [
  /suite-service-token-[0-9a-f]+/,
  /test-service-token-\d+-[0-9a-f]+/,
  // The launcher token of tests/perimeter/agent-isolation.test.ts.
  /opsiso[0-9a-f]{40}/,
  /admin-password-for-tests/,
  /member-password-123/,
  /a-brand-new-password/,
  /ops_session=[A-Za-z0-9_-]{20,}/,
  /"task_token"\s*:\s*"[A-Za-z0-9_-]{20,}"/,
  // Worker tokens (the launcher's credential): the prefix and a long random tail.
  /opsw_[A-Za-z0-9_-]{20,}/,
  /"password"\s*:\s*"[^"[]/,
];

function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

describe("no secret in any log or in the SPA bundle", () => {
  it("scans every log the test run produced", () => {
    const logs = filesUnder(TEST_LOG_DIR);
    expect(logs.length, `no logs in ${TEST_LOG_DIR}: run the suites first (pnpm test does)`).toBeGreaterThan(0);
    const bytes = logs.reduce((sum, f) => sum + statSync(f).size, 0);
    const leaks: string[] = [];
    for (const file of logs) {
      const text = readFileSync(file, "utf8");
      for (const pattern of SECRETS) {
        const match = pattern.exec(text);
        if (match) leaks.push(`${file}: ${match[0].slice(0, 40)}…`);
      }
    }
    console.log(`[secrets] scanned ${logs.length} log files, ${(bytes / 1024).toFixed(0)} KiB`);
    expect(leaks).toEqual([]);
  });

  it("finds no credential in the built SPA", () => {
    const dist = join(REPO_ROOT, "apps/web/dist");
    const files = filesUnder(dist);
    expect(files.length, "apps/web/dist is missing: build the web app first (pnpm --filter @ops/web build)").toBeGreaterThan(0);
    for (const file of files.filter((f) => /\.(js|html|css|map)$/.test(f))) {
      const text = readFileSync(file, "utf8");
      for (const pattern of SECRETS) expect(pattern.test(text), `${file} matches ${pattern}`).toBe(false);
      expect(text).not.toMatch(/OPS_SERVICE_TOKEN=|service_api_token["']?\s*:\s*["'][0-9a-f]{16,}/);
    }
  });
});

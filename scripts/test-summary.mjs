// The closing line of pnpm test, "N passed, N failed", over every suite of
// the run. Each `test:<kind>` script of a workspace package writes
// <package>/test-results/vitest-<kind>.json (vitest.shared.ts), fresh or
// restored from turbo's cache; this adds them all up. It exits 1 when a test
// failed, a test file failed to run, or a report is missing (a suite that did
// not run is not a pass). `--clean` removes the reports and the root's
// test-results (logs, screenshots) before a run.
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, relative } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));

/** The package folders pnpm-workspace.yaml lists (plain paths and `dir/*` globs). */
function workspacePackages() {
  const yaml = readFileSync(join(root, "pnpm-workspace.yaml"), "utf8");
  const block = yaml.split(/^packages:\s*$/m)[1]?.split(/^\S/m)[0] ?? "";
  const patterns = [...block.matchAll(/^\s*-\s*['"]?([^'"\s#]+)['"]?/gm)].map((m) => m[1]);
  return patterns.flatMap((pattern) => {
    if (!pattern.endsWith("/*")) return [pattern];
    const parent = pattern.slice(0, -2);
    if (!existsSync(join(root, parent))) return [];
    return readdirSync(join(root, parent), { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => `${parent}/${entry.name}`);
  });
}

/** Every report this run must produce: one per `test:<kind>` script. */
function expectedReports() {
  return workspacePackages().flatMap((dir) => {
    const manifest = join(root, dir, "package.json");
    if (!existsSync(manifest)) return [];
    const scripts = Object.keys(JSON.parse(readFileSync(manifest, "utf8")).scripts ?? {});
    return scripts.filter((name) => /^test:[\w-]+$/.test(name)).map((name) => ({ dir, file: join(root, dir, "test-results", `vitest-${name.slice(5)}.json`) }));
  });
}

if (process.argv.includes("--clean")) {
  rmSync(join(root, "test-results"), { recursive: true, force: true });
  for (const dir of workspacePackages()) rmSync(join(root, dir, "test-results"), { recursive: true, force: true });
  process.exit(0);
}

let passed = 0;
let failed = 0;
let skipped = 0;
const problems = [];
for (const { file } of expectedReports()) {
  const name = relative(root, file);
  if (!existsSync(file)) {
    problems.push(`missing ${name}: that suite did not run to the end`);
    continue;
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
  // A file that fails to load, or whose setup hook fails, counts no failed test.
  for (const result of report.testResults) {
    if (result.status === "failed" && result.assertionResults.every((test) => test.status !== "failed")) {
      const reason = String(result.message ?? "").split("\n").find((line) => line.trim()) ?? "a hook failed, see the suite's output above";
      problems.push(`${relative(root, result.name)} failed outside its tests: ${reason}`);
    }
  }
  if (!report.success && report.numFailedTests === 0 && report.numFailedTestSuites === 0) problems.push(`${name}: the run reported errors outside the tests`);
}
for (const problem of problems) console.error(`[test-summary] ${problem}`);
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 || problems.length > 0 ? 1 : 0);

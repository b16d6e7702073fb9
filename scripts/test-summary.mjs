// Prints one closing line for the whole test run, "N passed, N failed", from
// the JSON reports of pnpm test's two vitest steps; exits 1 on any failure or
// when a report is missing (a run that did not happen is not a pass).
import { existsSync, readFileSync } from "node:fs";

const reports = ["test-results/vitest-suites.json", "test-results/vitest-secrets.json"];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const file of reports) {
  if (!existsSync(file)) {
    console.error(`[test-summary] missing ${file}: run pnpm test`);
    process.exit(1);
  }
  const report = JSON.parse(readFileSync(file, "utf8"));
  passed += report.numPassedTests;
  failed += report.numFailedTests;
  skipped += report.numPendingTests + (report.numTodoTests ?? 0);
}
console.log(`${passed} passed, ${failed} failed${skipped ? `, ${skipped} skipped` : ""}`);
process.exit(failed > 0 || passed === 0 ? 1 : 0);

import { defineConfig } from "vitest/config";

// Every package's suites as projects of one run, for `pnpm vitest run <file>`
// and `--project <name>` from the repository root. pnpm test runs each
// package's suites through turbo instead (turbo.json).
export default defineConfig({
  test: {
    projects: ["apps/*/vitest.*.config.ts", "packages/*/vitest.*.config.ts", "tests/vitest.*.config.ts"],
    pool: "forks",
    maxWorkers: 2,
    reporters: ["default"],
  },
});

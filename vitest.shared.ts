import { defineConfig, type ViteUserConfig } from "vitest/config";

/**
 * What a suite needs from outside the repository decides how turbo treats it
 * (turbo.json): `unit` needs nothing (cached), `integration` runs against
 * PostgreSQL and real processes, `browser` drives Chromium, `secrets` reads
 * the logs the other suites wrote. A package runs each kind with its
 * `test:<kind>` script and `vitest.<kind>.config.ts`.
 */
export type SuiteKind = "unit" | "integration" | "browser" | "secrets";

type SuiteOptions = NonNullable<ViteUserConfig["test"]> & { name: string; include: string[] };

/**
 * One package's suite of one kind. Its JSON report goes to the package's
 * test-results/vitest-<kind>.json: turbo keeps it as the task's output (so a
 * cached run still has it) and scripts/test-summary.mjs adds every report up.
 */
export function suite(kind: SuiteKind, test: SuiteOptions): ViteUserConfig {
  return defineConfig({
    test: {
      // Suites start real servers and databases: give them room.
      testTimeout: 60_000,
      hookTimeout: 180_000,
      pool: "forks",
      // One file at a time per package, two packages at once (concurrency in
      // turbo.json): two files at a time on a 2-core machine, as one vitest
      // over everything used to run. Four at once timed out the fault suites
      // and API starts when other work loaded the machine.
      maxWorkers: 1,
      fileParallelism: true,
      environment: "node",
      reporters: ["default", "json"],
      outputFile: { json: `test-results/vitest-${kind}.json` },
      ...test,
    },
  });
}

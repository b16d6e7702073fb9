import { defineConfig } from "vitest/config";

// What `pnpm test:mutation` (Stryker) runs against each mutant: the fast unit
// tests of the pure modules it mutates (see stryker.config.mjs), nothing that
// starts a database or a process.
export default defineConfig({
  test: {
    name: "mutation",
    environment: "node",
    pool: "threads",
    include: [
      "packages/contract/src/settings.test.ts",
      "apps/api/src/dispatch/model-match.test.ts",
      "apps/api/test/model-match-rules.test.ts",
      "apps/api/test/crypto.test.ts",
      "apps/launcher/test/argv.test.ts",
      "apps/launcher/test/argv-stdin.test.ts",
      "apps/launcher/test/argv-rules.test.ts",
      "apps/launcher/test/launch-plan-rules.test.ts",
      "apps/launcher/test/outcome-edges.test.ts",
      "apps/launcher/src/launch-plan.test.ts",
      "apps/launcher/src/outcome.test.ts",
    ],
  },
});

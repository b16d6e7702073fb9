import { defineConfig } from "vitest/config";

// What `pnpm test:mutation` (Stryker) runs against each mutant: the fast unit
// tests of the pure modules it mutates (see stryker.config.mjs), nothing that
// starts a database or a process. A test counts only when it imports the
// mutated file by its path: `@ops/contract` resolves, through pnpm's link, to
// the repository's unmutated copy outside Stryker's sandbox.
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
      "packages/contract/src/launch-command.test.ts",
      "apps/launcher/test/argv-stdin.test.ts",
      "packages/contract/src/launch-command-rules.test.ts",
      "apps/launcher/test/launch-plan-rules.test.ts",
      "apps/launcher/test/outcome-edges.test.ts",
      "apps/launcher/src/launch-plan.test.ts",
      "apps/launcher/src/outcome.test.ts",
      "packages/contract/src/launch-command-stdin.test.ts",
      "packages/contract/src/settings-rules.test.ts",
      "apps/launcher/src/outcome-rules.test.ts",
      "apps/launcher/src/launch-plan-bounds.test.ts",
    ],
  },
});

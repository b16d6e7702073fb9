// Mutation testing of the pure modules (issue 16): `pnpm test:mutation`.
// Each mutant is checked against vitest.mutation.config.ts (unit tests only),
// so a run takes minutes on 2 cores. Reports go to reports/mutation/.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: "vitest",
  plugins: ["@stryker-mutator/vitest-runner"],
  vitest: { configFile: "vitest.mutation.config.ts", related: false },
  mutate: [
    "packages/contract/src/settings.ts",
    "apps/api/src/dispatch/model-match.ts",
    "apps/api/src/auth/crypto.ts",
    "apps/launcher/src/argv.ts",
    "apps/launcher/src/launch-plan.ts",
    "apps/launcher/src/outcome.ts",
  ],
  coverageAnalysis: "perTest",
  concurrency: 2,
  tempDirName: ".stryker-tmp",
  // Stryker rewrites this tsconfig's paths for its sandbox through TypeScript's
  // JS API, which TypeScript 7 (native) no longer has; the sandbox holds the
  // whole repository, so there is nothing to rewrite: point it at no file.
  tsconfigFile: "tsconfig.stryker-none.json",
  reporters: ["clear-text", "progress", "html", "json"],
  htmlReporter: { fileName: "reports/mutation/index.html" },
  jsonReporter: { fileName: "reports/mutation/mutation.json" },
  thresholds: { high: 90, low: 80, break: null },
};

import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    // Suites start real servers and databases: give them room, run two files at a time (2 cores).
    testTimeout: 60_000,
    hookTimeout: 180_000,
    pool: "forks",
    maxWorkers: 2,
    fileParallelism: true,
    reporters: ["default"],
    projects: [
      {
        extends: true,
        test: {
          name: "node",
          environment: "node",
          include: ["apps/api/test/**/*.test.ts", "apps/api/src/**/*.test.ts", "apps/launcher/src/**/*.test.ts", "apps/launcher/test/**/*.test.ts", "packages/*/src/**/*.test.ts", "scripts/**/*.test.ts", "tests/**/*.test.ts"],
          exclude: ["tests/secrets/**"],
        },
      },
      {
        extends: true,
        test: {
          // Second step of pnpm test: reads the logs the suites above wrote.
          name: "secrets",
          environment: "node",
          include: ["tests/secrets/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          name: "web",
          environment: "jsdom",
          include: ["apps/web/src/**/*.test.tsx", "apps/web/src/**/*.test.ts"],
        },
      },
      {
        extends: true,
        test: {
          // Real Chromium against a real API: see apps/web/e2e.
          name: "browser",
          environment: "node",
          include: ["apps/web/e2e/**/*.test.ts"],
        },
      },
    ],
  },
});

import { fileURLToPath } from "node:url";
import { suite } from "../vitest.shared.ts";

// Suites that exercise several apps at once (faults: API and launchers killed,
// PostgreSQL restarted) and the root's npm scripts (scripts/*.test.ts).
export default suite("integration", {
  name: "system:integration",
  dir: fileURLToPath(new URL("..", import.meta.url)),
  include: ["tests/**/*.test.ts", "scripts/**/*.test.ts"],
  exclude: ["**/node_modules/**", "tests/secrets/**"],
});

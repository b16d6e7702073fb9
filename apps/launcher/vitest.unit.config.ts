import { suite } from "../../vitest.shared.ts";

// Beside the code: no API, no agent process, no database (those suites live in test/).
export default suite("unit", { name: "launcher:unit", include: ["src/**/*.test.ts"], passWithNoTests: true });

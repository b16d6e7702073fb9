import { suite } from "../../vitest.shared.ts";

// The contract is zod schemas and constants: its suites need nothing outside the package.
export default suite("unit", { name: "contract:unit", include: ["src/**/*.test.ts", "test/**/*.test.ts"], passWithNoTests: true });

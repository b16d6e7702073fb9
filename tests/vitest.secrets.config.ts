import { suite } from "../vitest.shared.ts";

// Runs after every other suite (turbo.json's test:secrets): reads the logs they wrote.
export default suite("secrets", { name: "system:secrets", include: ["secrets/**/*.test.ts"] });

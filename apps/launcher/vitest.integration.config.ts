import { suite } from "../../vitest.shared.ts";

// The daemon and the doctor as processes, against a spawned API, PostgreSQL and the real agent CLIs.
export default suite("integration", { name: "launcher:integration", include: ["test/**/*.test.ts"] });

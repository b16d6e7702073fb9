import { suite } from "../../vitest.shared.ts";

// Procedures in-process (src) and the API over HTTP (test), on PGlite and on the PostgreSQL server.
export default suite("integration", { name: "api:integration", include: ["src/**/*.test.ts", "test/**/*.test.ts"] });

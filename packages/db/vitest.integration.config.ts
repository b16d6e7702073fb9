import { suite } from "../../vitest.shared.ts";

// Schema, migrations and createDb() are tested against PGlite and the PostgreSQL server.
export default suite("integration", { name: "db:integration", include: ["src/**/*.test.ts", "test/**/*.test.ts"], passWithNoTests: true });

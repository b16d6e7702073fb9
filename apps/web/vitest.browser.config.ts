import { suite } from "../../vitest.shared.ts";

// Debian's Chromium against a real API serving the built SPA.
export default suite("browser", { name: "web:browser", include: ["e2e/**/*.test.ts"] });

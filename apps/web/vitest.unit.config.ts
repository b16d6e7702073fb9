import { suite } from "../../vitest.shared.ts";

// Components and logic against a fake API in jsdom (see src/test/dom-setup.ts).
export default suite("unit", { name: "web:unit", environment: "jsdom", include: ["src/**/*.test.ts", "src/**/*.test.tsx"] });

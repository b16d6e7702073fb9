export * from "./client.ts";
export * from "./seed.ts";
export * as schema from "./schema.ts";
export * from "./schema.ts";

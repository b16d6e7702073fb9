export * from "./client.ts";
export * from "./raw-sql.ts";
export * from "./seed.ts";
export * from "./settings-store.ts";
export * as schema from "./schema.ts";
export * from "./schema.ts";

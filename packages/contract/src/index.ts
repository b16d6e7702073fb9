import { contract } from "./contract.ts";
import type { RouterFromContract } from "./procedure.ts";

export * from "./contract.ts";
export * from "./errors.ts";
export * from "./procedure.ts";
export * from "./schemas.ts";
export * from "./settings.ts";
export * from "./stale.ts";

/** The tRPC router type every client builds itself from. */
export type AppRouter = RouterFromContract<typeof contract>;
export const SERVICE_TOKEN_HEADER = "x-ops-service-token";
export const TASK_TOKEN_HEADER = "x-ops-task-token";
export const SESSION_COOKIE = "ops_session";

import type { contract } from "./contract.ts";
import type { RouterFromContract } from "./procedure.ts";

export * from "./contract.ts";
export * from "./errors.ts";
export * from "./messages.ts";
export * from "./procedure.ts";
export * from "./redaction.ts";
export * from "./routers/agents.ts";
export * from "./routers/alerts.ts";
export * from "./routers/audit.ts";
export * from "./routers/auth.ts";
export * from "./routers/comments.ts";
export * from "./routers/context.ts";
export * from "./routers/dispatch.ts";
export * from "./routers/memberships.ts";
export * from "./routers/settings.ts";
export * from "./routers/tasks.ts";
export * from "./routers/time-logs.ts";
export * from "./routers/users.ts";
export * from "./routers/workers.ts";
export * from "./routers/workspaces.ts";
export * from "./schemas.ts";
export * from "./settings.ts";
export * from "./stale.ts";

/** The tRPC router type every client builds itself from. */
export type AppRouter = RouterFromContract<typeof contract>;
export const SERVICE_TOKEN_HEADER = "x-ops-service-token";
export const TASK_TOKEN_HEADER = "x-ops-task-token";
/** A launcher's own credential (workers.issueToken), bound to its worker id and pool. */
export const WORKER_TOKEN_HEADER = "x-ops-worker-token";
/** Every worker token starts with it, so scanners and placeholder checks recognise one. */
export const WORKER_TOKEN_PREFIX = "opsw_";
export const SESSION_COOKIE = "ops_session";

/**
 * Log paths that may carry secrets. Every process's pino logger (the API and
 * the launcher) censors them before anything is written, so a new
 * credential-bearing field is added here once and redacted everywhere.
 */
export const REDACT_PATHS: string[] = [
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-ops-service-token"]',
  'req.headers["x-ops-task-token"]',
  'req.headers["x-ops-worker-token"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.token",
  "*.task_token",
  "*.value",
];

/** What a redacted value reads as in the logs. */
export const REDACT_CENSOR = "[redacted]";

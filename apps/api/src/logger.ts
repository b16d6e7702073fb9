import pino, { type Logger } from "pino";

/** Paths that may carry secrets; pino replaces them before anything is written. */
export const REDACT_PATHS = [
  "req.headers.cookie",
  "req.headers.authorization",
  'req.headers["x-ops-service-token"]',
  'req.headers["x-ops-task-token"]',
  'res.headers["set-cookie"]',
  "*.password",
  "*.token",
  "*.task_token",
  "*.value",
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" } };
  return destination ? pino(options, destination) : pino(options);
}

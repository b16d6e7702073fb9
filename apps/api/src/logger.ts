import { REDACT_CENSOR, REDACT_PATHS } from "@ops/contract";
import pino, { type Logger } from "pino";

/** One redaction list for every process (packages/contract/src/redaction.ts). */
export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  const options = { level, redact: { paths: REDACT_PATHS, censor: REDACT_CENSOR } };
  return destination ? pino(options, destination) : pino(options);
}

import type { TMessageParams } from "./messages.ts";

/** Machine-readable error codes; scripts branch on `code` in REST errors. */
export const OPS_ERROR_CODES = [
  "VALIDATION",
  "UNAUTHORIZED",
  "FORBIDDEN",
  "NOT_FOUND",
  "CONFLICT",
  "RATE_LIMITED",
  "HUMAN_GATE",
  "NO_AGENT",
  "AGENT_INACTIVE",
  "BLOCKED",
  "BAD_STATUS",
  "AGENT_IN_USE",
  "NOT_INTERACTIVE",
  "DONE_GUARD",
  "STALE_CLAIM",
  "UNAVAILABLE",
  "INTERNAL",
] as const;
export type OpsErrorCode = (typeof OPS_ERROR_CODES)[number];

/**
 * REST body of every error: the code scripts branch on, an English message,
 * the offending input field, and the parameters the app renders its own
 * words with (`params.reason` names the rule that refused, messages.ts).
 */
export interface RestError {
  error: { code: OpsErrorCode | string; message: string; field?: string; params?: TMessageParams };
}

import type { OpsErrorCode, TErrorReason, TMessageParams } from "@ops/contract";
import { TRPCError } from "@trpc/server";
import { type core, ZodError } from "zod";
import { OpsError } from "../errors.ts";

type TrpcCode = TRPCError["code"];

const STATUS_BY_CODE: Record<string, TrpcCode> = {
  VALIDATION: "BAD_REQUEST",
  UNAUTHORIZED: "UNAUTHORIZED",
  FORBIDDEN: "FORBIDDEN",
  NOT_FOUND: "NOT_FOUND",
  RATE_LIMITED: "TOO_MANY_REQUESTS",
  UNAVAILABLE: "SERVICE_UNAVAILABLE",
  INTERNAL: "INTERNAL_SERVER_ERROR",
};

export function toTrpcError(error: OpsError): TRPCError {
  return new TRPCError({ code: STATUS_BY_CODE[error.code] ?? "CONFLICT", message: error.message, cause: error });
}

// Connection-level failures: the database is down or restarting.
const UNAVAILABLE_ERRNOS = new Set(["ECONNREFUSED", "ECONNRESET", "ETIMEDOUT", "EPIPE", "CONNECTION_CLOSED", "CONNECTION_ENDED", "CONNECTION_DESTROYED", "CONNECT_TIMEOUT"]);

function databaseErrorCode(error: unknown): string | undefined {
  let e: unknown = error;
  for (let depth = 0; e && depth < 5; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === "string") return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Turns anything a procedure threw into an error with a stable ops code. */
export function classifyError(error: unknown): OpsError | undefined {
  if (error instanceof OpsError) return error;
  const code = databaseErrorCode(error);
  if (!code) return undefined;
  if (UNAVAILABLE_ERRNOS.has(code) || code.startsWith("08") || code === "57P01" || code === "57P02" || code === "57P03") {
    return new OpsError("UNAVAILABLE", "database unavailable; retry shortly");
  }
  if (code === "23505") return new OpsError("CONFLICT", "already exists");
  if (code === "23503") return new OpsError("VALIDATION", "refers to something that does not exist");
  if (code === "22P02" || code === "22003" || code === "22021" || code === "54000") {
    return new OpsError("VALIDATION", "a value is out of range or malformed");
  }
  return undefined;
}

/** Data attached to every error shape: an ops code, for validation the field, and the params the app words it with. */
export function errorData(error: TRPCError): { opsCode: OpsErrorCode | string; field?: string; message?: string; params?: TMessageParams } {
  const cause = error.cause;
  if (cause instanceof OpsError) {
    return { opsCode: cause.code, ...(cause.field ? { field: cause.field } : {}), ...(cause.params ? { params: cause.params } : {}) };
  }
  if (cause instanceof ZodError || (error.code === "BAD_REQUEST" && cause && "issues" in cause)) {
    const issue = (cause as ZodError).issues[0];
    const field = issue?.path.join(".") || undefined;
    return {
      opsCode: "VALIDATION",
      ...(field ? { field } : {}),
      message: issue ? `${field ? `${field}: ` : ""}${issue.message}` : "invalid input",
      ...(issue ? { params: issueParams(issue, field) } : {}),
    };
  }
  const byStatus: Partial<Record<TrpcCode, string>> = {
    BAD_REQUEST: "VALIDATION",
    UNAUTHORIZED: "UNAUTHORIZED",
    FORBIDDEN: "FORBIDDEN",
    NOT_FOUND: "NOT_FOUND",
    TOO_MANY_REQUESTS: "RATE_LIMITED",
    SERVICE_UNAVAILABLE: "UNAVAILABLE",
    PAYLOAD_TOO_LARGE: "VALIDATION",
    UNSUPPORTED_MEDIA_TYPE: "VALIDATION",
    PARSE_ERROR: "VALIDATION",
  };
  return { opsCode: byStatus[error.code] ?? (error.code === "CONFLICT" ? "CONFLICT" : "INTERNAL") };
}

type Bound = number | bigint | Date | undefined;
const num = (v: Bound) => (v === undefined ? undefined : Number(v instanceof Date ? v.getTime() : v));

/**
 * A zod issue as the app words it: the rule (`reason`, one of ERROR_REASONS),
 * the field and the limit. A refinement that names its own reason in its
 * params (the contract's rules do) keeps it.
 */
export function issueParams(issue: core.$ZodIssue, field: string | undefined): TMessageParams {
  const base: TMessageParams = field ? { field } : {};
  const lengthLike = (origin: string) => origin === "string" || origin === "array" || origin === "set" || origin === "file";
  switch (issue.code) {
    case "too_small":
      return { ...base, reason: (lengthLike(issue.origin) ? "too_short" : "too_small") satisfies TErrorReason, minimum: num(issue.minimum as Bound) ?? null };
    case "too_big":
      return { ...base, reason: (lengthLike(issue.origin) ? "too_long" : "too_big") satisfies TErrorReason, maximum: num(issue.maximum as Bound) ?? null };
    case "invalid_type":
      return { ...base, reason: "invalid_type", expected: String(issue.expected) };
    case "invalid_format":
      return { ...base, reason: "invalid_format", format: String(issue.format) };
    case "invalid_value":
      return { ...base, reason: "invalid_value", allowed: issue.values.map(String) };
    case "unrecognized_keys":
      return { ...base, reason: "unrecognized_keys", keys: issue.keys };
    case "custom":
      return { ...base, reason: "invalid_input", ...((issue.params ?? {}) as TMessageParams) };
    default:
      return { ...base, reason: "invalid_input" };
  }
}

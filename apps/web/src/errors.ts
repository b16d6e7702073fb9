import type { TMessageParams } from "@ops/contract";

interface ErrorLike {
  message?: unknown;
  data?: { opsCode?: unknown; field?: unknown; code?: unknown; params?: unknown } | null;
}

/** The API's machine-readable code (`error.data.opsCode`), or NETWORK when the request never got an answer. */
export function errorCode(error: unknown): string | undefined {
  if (!error || typeof error !== "object") return undefined;
  const data = (error as ErrorLike).data;
  if (data && typeof data.opsCode === "string") return data.opsCode;
  if (data && typeof data.code === "string") return data.code === "BAD_REQUEST" ? "VALIDATION" : data.code;
  if (error instanceof TypeError || /fetch|network/i.test(String((error as ErrorLike).message ?? ""))) return "NETWORK";
  return undefined;
}

export function errorField(error: unknown): string | undefined {
  const data = (error as ErrorLike | null)?.data;
  return data && typeof data.field === "string" ? data.field : undefined;
}

/** The parameters the API words the error with (`params.reason`: the rule that refused). */
export function errorParams(error: unknown): TMessageParams {
  const params = (error as ErrorLike | null)?.data?.params;
  return params && typeof params === "object" && !Array.isArray(params) ? (params as TMessageParams) : {};
}

export function errorMessage(error: unknown): string {
  const message = (error as ErrorLike | null)?.message;
  return typeof message === "string" ? message : String(error);
}

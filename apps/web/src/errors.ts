import { hasMessage, type Translate } from "./i18n/index.tsx";

interface ErrorLike {
  message?: unknown;
  data?: { opsCode?: unknown; field?: unknown; code?: unknown } | null;
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

export function errorMessage(error: unknown): string {
  const message = (error as ErrorLike | null)?.message;
  return typeof message === "string" ? message : String(error);
}

/** A sentence for people (localized by code) plus the server's exact words. */
export function describeError(error: unknown, t: Translate): { summary: string; detail: string | undefined; code: string | undefined } {
  const code = errorCode(error);
  const key = `error.${code}`;
  const summary = code && hasMessage(key) ? t(key) : t("error.generic");
  const detail = errorMessage(error);
  return { summary, detail: detail && detail !== summary ? detail : undefined, code };
}

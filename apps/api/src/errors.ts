import type { OpsErrorCode, TMessageParams } from "@ops/contract";

export interface OpsErrorDetail {
  /** The offending input field. */
  field?: string | undefined;
  /** What the app renders its own words with; `reason` names the rule that refused (ERROR_REASONS). */
  params?: TMessageParams | undefined;
}

/** A failure the caller can act on; mapped to an HTTP status by its code. */
export class OpsError extends Error {
  readonly field: string | undefined;
  readonly params: TMessageParams | undefined;
  constructor(
    readonly code: OpsErrorCode,
    message: string,
    detail?: string | OpsErrorDetail,
  ) {
    super(message);
    this.name = "OpsError";
    const d = typeof detail === "string" ? { field: detail } : (detail ?? {});
    this.field = d.field;
    this.params = d.params;
  }
}

export const notFound = (what: string) => new OpsError("NOT_FOUND", `${what} not found`);
/** A refusal for who the caller is; `detail` names the field (a string) or carries params for the app's words. */
export const forbidden = (message = "your role may not do this", detail?: string | TMessageParams) =>
  new OpsError("FORBIDDEN", message, typeof detail === "string" ? { field: detail, params: { field: detail } } : { params: detail });
export const invalid = (field: string, message: string, params?: TMessageParams) =>
  new OpsError("VALIDATION", message, { field, params: { field, ...params } });

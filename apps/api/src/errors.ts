import type { OpsErrorCode } from "@ops/contract";

/** A failure the caller can act on; mapped to an HTTP status by its code. */
export class OpsError extends Error {
  constructor(
    readonly code: OpsErrorCode,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = "OpsError";
  }
}

export const notFound = (what: string) => new OpsError("NOT_FOUND", `${what} not found`);
export const forbidden = (message = "your role may not do this", field?: string) => new OpsError("FORBIDDEN", message, field);
export const invalid = (field: string, message: string) => new OpsError("VALIDATION", message, field);

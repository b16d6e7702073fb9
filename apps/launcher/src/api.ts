import { type AppRouter, SERVICE_TOKEN_HEADER } from "@ops/contract";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";
import { httpFetch } from "./http-fetch.ts";

/** The typed client, built from the contract alone (nothing from apps/api). */
export function createApiClient(trpcUrl: string, serviceToken: string) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: trpcUrl, headers: { [SERVICE_TOKEN_HEADER]: serviceToken }, fetch: httpFetch })],
  });
}
export type ApiClient = ReturnType<typeof createApiClient>;

/** The API's machine-readable reason (STALE_CLAIM, UNAUTHORIZED, …), when the error came from it. */
export function opsCodeOf(error: unknown): string | undefined {
  if (error instanceof TRPCClientError) {
    const data = error.data as { opsCode?: unknown } | undefined;
    return typeof data?.opsCode === "string" ? data.opsCode : undefined;
  }
  return undefined;
}

/** Network trouble or a 5xx: worth retrying. A 4xx answer is final. */
export function isRetryable(error: unknown): boolean {
  const code = opsCodeOf(error);
  if (code === undefined) return true;
  return code === "UNAVAILABLE" || code === "INTERNAL" || code === "RATE_LIMITED";
}

export const describeError = (error: unknown) => {
  const code = opsCodeOf(error);
  return `${code ? `${code}: ` : ""}${(error as Error)?.message ?? String(error)}`;
};

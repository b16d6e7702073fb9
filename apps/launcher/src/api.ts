import type { AppRouter } from "@ops/contract";
import { createTRPCClient, TRPCClientError } from "@trpc/client";
import { launcherLink } from "./trpc-link.ts";

/** The header and token the launcher sends (LauncherCredential, or any header/token pair). */
export interface ApiCredential {
  header: string;
  token: string;
}

/** The typed client, built from the contract alone (nothing from apps/api). */
export function createApiClient(trpcUrl: string, credential: ApiCredential) {
  return createTRPCClient<AppRouter>({
    // launcherLink sends over node:http keep-alive and never follows a redirect (its token would go along).
    links: [launcherLink({ url: trpcUrl, headers: { [credential.header]: credential.token } })],
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

import type { AppRouter } from "@ops/contract";
import { createTRPCClient, httpLink, TRPCClientError } from "@trpc/client";

/** The header and token the launcher sends (LauncherCredential, or any header/token pair). */
export interface ApiCredential {
  header: string;
  token: string;
}

/**
 * fetch that never follows a redirect: a 3xx would carry the launcher's token
 * header to wherever Location points (another port, another host, plain
 * http). The answer becomes an error that names where it pointed, so the
 * operator fixes OPS_API_BASE instead of the launcher sending its token on.
 */
export const noRedirectFetch: typeof fetch = async (input, init) => {
  const response = await fetch(input, { ...init, redirect: "manual" });
  if (response.status >= 300 && response.status < 400) {
    await response.body?.cancel();
    const location = response.headers.get("location");
    let target = "no Location";
    if (location) {
      try {
        const url = new URL(location, response.url || String(input));
        target = `${url.origin}${url.pathname}`;
      } catch {
        target = "an invalid Location";
      }
    }
    throw new Error(`the API answered ${response.status} redirecting to ${target}; the launcher does not follow redirects (its token would go along): set OPS_API_BASE to the final URL`);
  }
  return response;
};

/** The typed client, built from the contract alone (nothing from apps/api). */
export function createApiClient(trpcUrl: string, credential: ApiCredential) {
  return createTRPCClient<AppRouter>({
    links: [httpLink({ url: trpcUrl, headers: { [credential.header]: credential.token }, fetch: noRedirectFetch })],
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

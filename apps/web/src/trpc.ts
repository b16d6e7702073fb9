import type { AppRouter } from "@ops/contract";
import { QueryCache, QueryClient } from "@tanstack/react-query";
import { createTRPCClient, httpBatchLink, type TRPCLink } from "@trpc/client";
import { createTRPCContext } from "@trpc/tanstack-react-query";
import { errorCode } from "./errors.ts";

export const { TRPCProvider, useTRPC, useTRPCClient } = createTRPCContext<AppRouter>();

/** Same-origin tRPC with batching; the session cookie rides along. */
export function createApiClient(links?: TRPCLink<AppRouter>[]) {
  return createTRPCClient<AppRouter>({
    links: links ?? [httpBatchLink({ url: "/trpc", fetch: (url, init) => fetch(url, { ...init, credentials: "same-origin" }) })],
  });
}

/** Client errors (4xx) are answers, not glitches: retrying them only delays the message. */
const NO_RETRY = new Set(["UNAUTHORIZED", "FORBIDDEN", "NOT_FOUND", "VALIDATION", "RATE_LIMITED", "BAD_STATUS", "CONFLICT"]);

export function createQueryClient(onUnauthorized?: () => void) {
  return new QueryClient({
    queryCache: new QueryCache({
      onError: (error, query) => {
        // A session that expired while the page was open: back to sign-in.
        const key = JSON.stringify(query.queryKey);
        if (errorCode(error) === "UNAUTHORIZED" && !key.includes('"me"')) onUnauthorized?.();
      },
    }),
    defaultOptions: {
      queries: {
        staleTime: 2_000,
        retry: (count, error) => !NO_RETRY.has(errorCode(error) ?? "") && count < 2,
      },
      mutations: { retry: false },
    },
  });
}

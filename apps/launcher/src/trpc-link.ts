import { TRPCClientError, type TRPCLink } from "@trpc/client";
import type { AnyRouter } from "@trpc/server";
import { observable } from "@trpc/server/observable";
import { transformResult } from "@trpc/server/unstable-core-do-not-import";
import { httpFetch } from "./http-fetch.ts";

/**
 * The launcher's tRPC link: one HTTP request per call, the same requests and
 * answers as tRPC's `httpLink` (queries as GET `?input=`, mutations as POST
 * with a JSON body, `{result:{data}}` or `{error}` back), sent with
 * `httpFetch` (node:http keep-alive, redirects refused).
 *
 * Why not `httpLink` itself (issue 12, bench/README.md → Profiles): per call
 * it spreads its options into new objects twice, builds an AbortController
 * and races it with the operation's signal, and resolves its headers through
 * a promise; in the client's CPU profile that was a fifth of what the typed
 * client cost over REST. There is no transformer in this API, so the JSON is
 * the data. Errors are TRPCClientError as httpLink makes them (opsCodeOf reads
 * them the same way).
 */
const NO_TRANSFORMER = { serialize: (value: unknown) => value, deserialize: (value: unknown) => value };

export function launcherLink<TRouter extends AnyRouter>(opts: { url: string; headers: Record<string, string> }): TRPCLink<TRouter> {
  const postHeaders = { ...opts.headers, "content-type": "application/json" };
  return () =>
    ({ op }) =>
      observable((observer) => {
        const { path, input, type } = op;
        if (type === "subscription") throw new Error("subscriptions are not served over HTTP");
        const encoded = input === undefined ? undefined : JSON.stringify(input);
        const request =
          type === "query"
            ? httpFetch(`${opts.url}/${path}${encoded === undefined ? "" : `?input=${encodeURIComponent(encoded)}`}`, {
                method: "GET",
                headers: opts.headers,
                signal: op.signal ?? null,
              })
            : httpFetch(`${opts.url}/${path}`, { method: "POST", headers: postHeaders, body: encoded, signal: op.signal ?? null });
        request
          .then(async (response) => {
            const json = await response.json();
            const meta = { response, responseJSON: json };
            // As httpLink: an answer that is not a tRPC envelope is an error too.
            const transformed = transformResult(json as never, NO_TRANSFORMER);
            if (!transformed.ok) {
              observer.error(TRPCClientError.from(transformed.error, { meta }));
              return;
            }
            // One answer per call, and the client takes the first value and unsubscribes; completing as
            // well only made tRPC's observableToPromise abort an AbortController (a DOMException with a
            // captured stack per call, the largest single item left in the client's profile).
            observer.next({ context: meta, result: transformed.result });
          })
          .catch((cause: unknown) => observer.error(TRPCClientError.from(cause as Error)));
      });
}

import type { AppRouter } from "@ops/contract";
import { resolveResponse } from "@trpc/server/http";
import { incomingMessageToRequest } from "@trpc/server/adapters/node-http";
import type { FastifyInstance } from "fastify";
import type { AppDeps } from "../deps.ts";
import { createRequestContext } from "./create-context.ts";

/**
 * tRPC at `/trpc/:path`, as `@trpc/server/adapters/fastify` serves it (the
 * same request parsing, batching, errors and status codes: `resolveResponse`
 * does all of it), except that the answer is sent as one buffer with its
 * Content-Length.
 *
 * Why (issue 12, bench/README.md → Profiles): the stock adapter hands
 * Fastify a web `Response`, which Fastify pipes as a web stream — a chunked
 * answer written in several socket writes plus the trailer per call. For the
 * launcher's small JSON answers those writes were the API's largest cost on
 * the tRPC path (≈17% of its CPU, `sendWebStream` → `writev`). Every
 * procedure here answers a finite JSON document (no subscriptions, no
 * streaming links), so reading it whole first changes nothing a client sees.
 */
export async function registerTrpc(app: FastifyInstance, deps: AppDeps, router: AppRouter, prefix = "/trpc"): Promise<void> {
  await app.register(async (scope) => {
    // tRPC parses its own bodies (batch envelopes, GET inputs): hand it the raw text, as the stock adapter does.
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
    scope.removeContentTypeParser("multipart/form-data");
    scope.addContentTypeParser("multipart/form-data", {}, (_req, body, done) => done(null, body));

    scope.all(`${prefix}/:path`, async (req, reply) => {
      const incoming = req.raw as typeof req.raw & { body?: unknown };
      if ("body" in req) incoming.body = req.body;
      const request = incomingMessageToRequest(incoming, reply.raw, { maxBodySize: null });
      const response = await resolveResponse({
        router,
        req: request,
        path: (req.params as { path: string }).path,
        error: null,
        createContext: async () => createRequestContext(deps, req, reply),
      });
      reply.code(response.status);
      response.headers.forEach((value, name) => {
        if (name !== "set-cookie") reply.header(name, value);
      });
      for (const cookie of response.headers.getSetCookie()) reply.header("set-cookie", cookie);
      return reply.send(response.body ? Buffer.from(await response.arrayBuffer()) : "");
    });
  });
}

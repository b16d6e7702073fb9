import type { AppRouter } from "@ops/contract";
import { getHTTPStatusCodeFromError, resolveResponse } from "@trpc/server/http";
import {
  type AnyProcedure,
  getErrorShape,
  getProcedureAtPath,
  getTRPCErrorFromUnknown,
} from "@trpc/server/unstable-core-do-not-import";
import { incomingMessageToRequest } from "@trpc/server/adapters/node-http";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { AppDeps } from "../deps.ts";
import { createRequestContext } from "./create-context.ts";

/**
 * tRPC at `/trpc/:path`, as `@trpc/server/adapters/fastify` serves it (the
 * same request parsing, batching, errors and status codes), with two changes
 * measured in issue 12 (bench/README.md → Profiles):
 *
 * - The answer is sent as one buffer with its Content-Length. The stock
 *   adapter hands Fastify a web `Response`, which Fastify pipes as a web
 *   stream: a chunked answer in several socket writes plus the trailer per
 *   call, for the launcher's small JSON answers the largest single cost of
 *   the tRPC path. Every procedure here answers a finite JSON document (no
 *   subscriptions, no streaming links), so reading it whole first changes
 *   nothing a client sees.
 * - A single call (what the launcher's httpLink sends: one mutation per POST,
 *   one query per GET, no batch, JSON input) skips the WHATWG Request the
 *   stock path builds from the Node request (headers copied, an AbortSignal,
 *   a body stream) and the Response it builds back: the procedure is called
 *   as `resolveResponse` calls it, and its result or error shape is written
 *   exactly as `resolveResponse` writes them (test/trpc-transport.test.ts
 *   compares the two byte for byte). Anything else (batches, GET with a body,
 *   another content type, unparseable input, an unknown path, the wrong
 *   method) goes through `resolveResponse` unchanged.
 */
export async function registerTrpc(app: FastifyInstance, deps: AppDeps, router: AppRouter, prefix = "/trpc"): Promise<void> {
  await app.register(async (scope) => {
    // tRPC parses its own bodies (batch envelopes, GET inputs): hand it the raw text, as the stock adapter does.
    scope.removeContentTypeParser("application/json");
    scope.addContentTypeParser("application/json", { parseAs: "string" }, (_req, body, done) => done(null, body));
    scope.removeContentTypeParser("multipart/form-data");
    scope.addContentTypeParser("multipart/form-data", {}, (_req, body, done) => done(null, body));

    scope.all(`${prefix}/:path`, async (req, reply) => {
      const path = (req.params as { path: string }).path;
      const single = await singleCall(router, path, req);
      if (single) return callOne(deps, router, path, single, req, reply);
      const incoming = req.raw as typeof req.raw & { body?: unknown };
      if ("body" in req) incoming.body = req.body;
      const request = incomingMessageToRequest(incoming, reply.raw, { maxBodySize: null });
      const response = await resolveResponse({
        router,
        req: request,
        path,
        error: null,
        // The number of calls lets auth.login refuse to ride in a batch (a batch of guesses).
        createContext: async ({ info }) => createRequestContext(deps, req, reply, info.calls.length),
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

/** Whether the header was sent (Fastify lower-cases names). */
const has = (req: FastifyRequest, name: string) => req.headers[name] !== undefined;

/**
 * The procedure and its parsed input when this is one plain call the fast
 * path answers exactly as resolveResponse would; undefined otherwise.
 */
async function singleCall(router: AppRouter, path: string, req: FastifyRequest): Promise<{ procedure: AnyProcedure; input: unknown } | undefined> {
  const query = req.query as Record<string, unknown>;
  if (query.batch !== undefined || has(req, "trpc-accept") || /application\/jsonl|text\/event-stream/.test(req.headers.accept ?? "")) return undefined;
  const procedure = await getProcedureAtPath(router, path);
  if (!procedure) return undefined;
  const type = procedure._def.type;
  let text: unknown;
  if (type === "mutation" && req.method === "POST") {
    // The JSON parser of this scope leaves the body as text; any other content type is the stock path's to judge.
    text = req.body;
    if (typeof text !== "string") return undefined;
  } else if (type === "query" && req.method === "GET") {
    text = query.input;
    if (text !== undefined && typeof text !== "string") return undefined;
  } else {
    return undefined;
  }
  if (text === undefined || text === "") return { procedure, input: undefined };
  try {
    return { procedure, input: JSON.parse(text as string) };
  } catch {
    return undefined;
  }
}

async function callOne(
  deps: AppDeps,
  router: AppRouter,
  path: string,
  { procedure, input }: { procedure: AnyProcedure; input: unknown },
  req: FastifyRequest,
  reply: FastifyReply,
) {
  const ctx = createRequestContext(deps, req, reply);
  const type = procedure._def.type;
  let status = 200;
  let body: unknown;
  try {
    const data = await procedure({ path, getRawInput: async () => input, ctx, type, signal: ctx.signal, batchIndex: 0 });
    body = { result: { data } };
  } catch (cause) {
    const error = getTRPCErrorFromUnknown(cause);
    status = getHTTPStatusCodeFromError(error);
    body = { error: getErrorShape({ config: router._def._config, ctx, error, input, path, type }) };
  }
  return reply.code(status).header("vary", "trpc-accept, accept").header("content-type", "application/json")
    // A buffer: Fastify sends it as it is (a string would get "; charset=utf-8" added, unlike resolveResponse's answer).
    .send(Buffer.from(JSON.stringify(body)));
}

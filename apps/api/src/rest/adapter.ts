import { contract, listProcedures, type RestError } from "@ops/contract";
import { getHTTPStatusCodeFromError } from "@trpc/server/http";
import { TRPCError } from "@trpc/server";
import type { FastifyInstance } from "fastify";
import type { AppRouter } from "@ops/contract";
import type { AppDeps } from "../deps.ts";
import { createRequestContext } from "../trpc/create-context.ts";
import { errorData } from "../trpc/errors.ts";
import { createCaller } from "../trpc/router.ts";

/** The REST error body for any error a procedure call produced. */
export function restError(error: unknown): { status: number; body: RestError } {
  const trpcError = error instanceof TRPCError ? error : new TRPCError({ code: "INTERNAL_SERVER_ERROR", cause: error });
  const data = errorData(trpcError);
  const status = getHTTPStatusCodeFromError(trpcError);
  const message = data.message ?? (status >= 500 && data.opsCode !== "UNAVAILABLE" ? "internal error" : trpcError.message);
  return {
    status,
    body: { error: { code: data.opsCode, message, ...(data.field ? { field: data.field } : {}), ...(data.params ? { params: data.params } : {}) } },
  };
}

const toFastifyPath = (path: string) => path.replace(/\{(\w+)\}/g, ":$1");

/**
 * Serves every contract procedure at its documented REST path under /api by
 * calling the same tRPC procedure. Input is query, then body, then path
 * parameters merged — so `PATCH /api/tasks/7/status?force=true` carries force,
 * which the common tRPC OpenAPI adapters drop for body methods.
 */
export function registerRestRoutes(app: FastifyInstance, deps: AppDeps, appRouter: AppRouter): void {
  for (const { name, def } of listProcedures(contract)) {
    const segments = name.split(".");
    app.route({
      method: def.method,
      url: `/api${toFastifyPath(def.path)}`,
      handler: async (req, reply) => {
        const body = def.method === "GET" ? undefined : req.body;
        if (body !== undefined && body !== null && (typeof body !== "object" || Array.isArray(body))) {
          return reply.code(400).send({ error: { code: "VALIDATION", message: "the request body must be a JSON object" } });
        }
        const input = {
          ...(req.query as Record<string, unknown>),
          ...((body as Record<string, unknown> | null | undefined) ?? {}),
          ...(req.params as Record<string, unknown>),
        };
        const ctx = createRequestContext(deps, req, reply);
        let target: unknown = createCaller(appRouter, ctx);
        for (const segment of segments) target = (target as Record<string, unknown>)[segment];
        try {
          const output = await (target as (input: unknown) => Promise<unknown>)(input);
          return reply.code(200).send(output);
        } catch (error) {
          const { status, body: errorBody } = restError(error);
          if (status >= 500 && errorBody.error.code !== "UNAVAILABLE") {
            req.log.error({ err: error, procedure: name }, "REST call failed");
          }
          return reply.code(status).send(errorBody);
        }
      },
    });
  }
}

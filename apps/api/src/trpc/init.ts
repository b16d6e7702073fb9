import type { Access, OpsRestMeta } from "@ops/contract";
import { initTRPC, TRPCError } from "@trpc/server";
import { isAdminCaller, isInstanceOperator } from "../auth/principal.ts";
import { OpsError } from "../errors.ts";
import type { Ctx } from "../procedures/request-context.ts";
import { classifyError, errorData, toTrpcError } from "./errors.ts";

const t = initTRPC
  .context<Ctx>()
  .meta<OpsRestMeta>()
  .create({
    // Stack traces never leave the server; clients get a message and an ops code.
    isDev: false,
    errorFormatter({ shape, error }) {
      const data = errorData(error);
      const message =
        data.message ?? (error.code === "INTERNAL_SERVER_ERROR" ? "internal error" : shape.message);
      return {
        ...shape,
        message,
        data: {
          code: shape.data.code,
          httpStatus: shape.data.httpStatus,
          path: shape.data.path,
          opsCode: data.opsCode,
          field: data.field,
          ...(data.params ? { params: data.params } : {}),
        },
      };
    },
  });

export const router = t.router;
export const createCallerFactory = t.createCallerFactory;

const errorMapping = t.middleware(async ({ next, ctx }) => {
  const result = await next();
  if (!result.ok) {
    const cause = result.error.cause;
    const classified = classifyError(cause);
    if (classified) return { ...result, error: toTrpcError(classified) } as typeof result;
    if (result.error.code === "INTERNAL_SERVER_ERROR") {
      ctx.deps.log.error({ err: cause ?? result.error }, "procedure failed");
    }
  }
  return result;
});

function allowed(access: Access, principal: Ctx["principal"]): "ok" | "unauthenticated" | "forbidden" {
  if (access === "public") return "ok";
  if (principal.kind === "anonymous") return "unauthenticated";
  switch (access) {
    case "user":
      return principal.kind === "user" || principal.kind === "service" ? "ok" : "forbidden";
    case "admin":
      return isAdminCaller(principal) ? "ok" : "forbidden";
    case "operator":
      return isInstanceOperator(principal) ? "ok" : "forbidden";
    case "worker":
      return principal.kind === "service" || principal.kind === "worker" ? "ok" : "forbidden";
    case "agent":
      return principal.kind === "worker" ? "forbidden" : "ok";
  }
}

const withPrincipal = t.middleware(async ({ ctx, meta, next }) => {
  let principal: Ctx["principal"];
  try {
    principal = await ctx.resolvePrincipal();
  } catch (error) {
    const classified = classifyError(error);
    if (classified) throw toTrpcError(classified);
    throw error;
  }
  const verdict = allowed(meta?.access ?? "operator", principal);
  if (verdict === "unauthenticated") throw toTrpcError(new OpsError("UNAUTHORIZED", "sign in or send X-OPS-Service-Token"));
  if (verdict === "forbidden") throw toTrpcError(new OpsError("FORBIDDEN", "your role may not do this"));
  return next({ ctx: { ...ctx, principal } });
});

export const baseProcedure = t.procedure.use(errorMapping).use(withPrincipal);
export { TRPCError };

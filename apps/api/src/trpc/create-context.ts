import { SESSION_COOKIE } from "@ops/contract";
import type { FastifyReply, FastifyRequest } from "fastify";
import { authenticate } from "../auth/authenticate.ts";
import type { Principal } from "../auth/principal.ts";
import type { AppDeps } from "../deps.ts";
import type { Ctx } from "../procedures/request-context.ts";

/** One context per request, for tRPC and for the REST adapter alike. */
export function createRequestContext(deps: AppDeps, req: FastifyRequest, reply: FastifyReply, callsInRequest = 1): Ctx {
  const controller = new AbortController();
  // The response closing before it was sent means the client went away.
  reply.raw.on("close", () => {
    if (!reply.raw.writableFinished) controller.abort();
  });
  let principal: Promise<Principal> | undefined;
  const cookie = req.cookies?.[SESSION_COOKIE];
  // Fastify honours X-Forwarded-* only from the hops TRUST_PROXY trusts (trustProxy option):
  // req.ip is then the first untrusted address from the right of X-Forwarded-For.
  const secure = req.protocol === "https";
  return {
    deps,
    db: deps.database.db,
    principal: { kind: "anonymous" },
    resolvePrincipal: () => {
      principal ??= authenticate(deps.database.db, deps.serviceTokens, deps.workerTokens, req.headers, cookie);
      return principal;
    },
    ip: req.ip ?? null,
    signal: controller.signal,
    callsInRequest,
    cookies: {
      set(value, expiresAt) {
        reply.setCookie(SESSION_COOKIE, value, { path: "/", httpOnly: true, sameSite: "strict", secure, expires: expiresAt });
      },
      clear() {
        reply.clearCookie(SESSION_COOKIE, { path: "/", httpOnly: true, sameSite: "strict", secure });
      },
    },
  };
}

import { authenticate } from "../auth/authenticate.ts";
import { login, logout } from "../auth/login.ts";
import { describePrincipal } from "../auth/principal.ts";
import { changeOwnPassword } from "../domain/users.ts";
import { OpsError } from "../errors.ts";
import type { ApiImplementation } from "./implementation.ts";

export const authProcedures: ApiImplementation["auth"] = {
  login: async ({ ctx, input }) => {
    // One guess per request: a batch of sign-ins would be many guesses for one request's worth of limits.
    if ((ctx.callsInRequest ?? 1) > 1) {
      throw new OpsError("VALIDATION", "auth.login cannot be sent in a batch; send each sign-in as its own request", {
        params: { reason: "login_batched" },
      });
    }
    const session = await login(ctx.db, input.username, input.password, ctx.ip);
    ctx.cookies.set(session.cookie, session.expiresAt);
    const principal = await authenticate(ctx.db, ctx.deps.serviceTokens, ctx.deps.workerTokens, {}, session.cookie);
    return { me: describePrincipal(principal) };
  },
  logout: async ({ ctx }) => {
    if (ctx.principal.kind === "user") await logout(ctx.db, ctx.principal.sessionIdHash);
    ctx.cookies.clear();
    return { ok: true };
  },
  changePassword: async ({ ctx, input }) => {
    await changeOwnPassword(ctx.db, ctx.principal, input, ctx.ip);
    return { ok: true };
  },
  me: async ({ ctx }) => describePrincipal(ctx.principal),
};

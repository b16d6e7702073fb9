import { forgetGeneratedServiceToken } from "../auth/bootstrap.ts";
import { generateToken } from "../auth/crypto.ts";
import { actorName } from "../auth/principal.ts";
import { getSetting, listSettings, putSetting } from "../domain/settings.ts";
import type { ApiImplementation } from "./implementation.ts";
import type { Ctx } from "./request-context.ts";

/** A new service token takes effect at once on this instance and ends the "generated" warning. */
async function onServiceTokenChanged(ctx: Ctx) {
  ctx.deps.serviceTokens.invalidate();
  await forgetGeneratedServiceToken(ctx.db);
}

export const settingsProcedures: ApiImplementation["settings"] = {
  list: ({ ctx }) => listSettings(ctx.db),
  get: ({ ctx, input }) => getSetting(ctx.db, input.key),
  put: async ({ ctx, input }) => {
    const view = await putSetting(ctx.db, input.key, input.value, actorName(ctx.principal), ctx.ip);
    // In force on this instance when the answer leaves; the others follow the NOTIFY putSetting sent.
    ctx.deps.settings.invalidate();
    if (input.key === "service_api_token") await onServiceTokenChanged(ctx);
    return view;
  },
  rotateServiceToken: async ({ ctx }) => {
    const token = generateToken();
    await putSetting(ctx.db, "service_api_token", token, actorName(ctx.principal), ctx.ip);
    await onServiceTokenChanged(ctx);
    return { token };
  },
};

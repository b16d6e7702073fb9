import { listAlerts, resolveAlert } from "../domain/alerts.ts";
import type { ApiImplementation } from "./implementation.ts";

export const alertsProcedures: ApiImplementation["alerts"] = {
  list: ({ ctx, input }) => listAlerts(ctx.db, ctx.principal, input),
  resolve: ({ ctx, input }) => resolveAlert(ctx.db, ctx.principal, input.id, ctx.ip),
};

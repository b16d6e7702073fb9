import { listAuditEntries } from "../audit.ts";
import { toAuditDto } from "../domain/serialize.ts";
import type { ApiImplementation } from "./implementation.ts";

export const auditProcedures: ApiImplementation["audit"] = {
  list: async ({ ctx, input }) => (await listAuditEntries(ctx.db, input)).map(toAuditDto),
};

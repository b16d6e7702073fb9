import { z } from "zod";
import { isoDate } from "../fields.ts";
import { query } from "../procedure.ts";

export const ZAuditEntry = z.object({
  id: z.number(),
  actor: z.string(),
  action: z.string(),
  target_type: z.string().nullable(),
  target_id: z.string().nullable(),
  details: z.record(z.string(), z.unknown()),
  ip: z.string().nullable(),
  created_at: isoDate,
});
export type TAuditEntry = z.infer<typeof ZAuditEntry>;

export const auditContract = {
  list: query({
    path: "/audit",
    access: "operator",
    summary: "Audit log, newest first.",
    input: z.object({
      action: z.string().max(100).optional(),
      limit: z.coerce.number().int().min(1).max(500).default(100),
    }),
    output: z.array(ZAuditEntry),
  }),
};

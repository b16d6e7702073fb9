import { z } from "zod";
import { byId, isoDate, nullableDate, workspaceId } from "../fields.ts";
import { mutation, query } from "../procedure.ts";

export const ZAlert = z.object({
  id: z.number(),
  workspace_id: z.number(),
  kind: z.string(),
  task_id: z.number().nullable(),
  task_title: z.string().nullable(),
  status: z.enum(["open", "resolved"]),
  message: z.string(),
  occurrences: z.number(),
  first_seen_at: isoDate,
  last_seen_at: isoDate,
  resolved_at: nullableDate,
  resolved_by: z.string().nullable(),
});
export type TAlert = z.infer<typeof ZAlert>;

export const alertsContract = {
  list: query({
    path: "/alerts",
    access: "user",
    summary: "System alerts, open first.",
    input: z.object({
      workspace_id: workspaceId,
      status: z.enum(["open", "resolved", "all"]).default("open"),
    }),
    output: z.array(ZAlert),
  }),
  resolve: mutation({
    method: "POST",
    path: "/alerts/{id}/resolve",
    access: "admin",
    summary: "Resolve an alert.",
    input: byId,
    output: ZAlert,
  }),
};

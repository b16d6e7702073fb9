import { z } from "zod";
import { byTaskId, isoDate } from "../fields.ts";
import { mutation, query } from "../procedure.ts";
import { ZId } from "../schemas.ts";

export const TIME_LOG_SOURCES = ["ai", "human"] as const;
export type TTimeLogSource = (typeof TIME_LOG_SOURCES)[number];
export const ZTimeLog = z.object({
  id: z.number(),
  task_id: z.number(),
  source: z.enum(TIME_LOG_SOURCES),
  minutes: z.number(),
  note: z.string().nullable(),
  author: z.string().nullable(),
  created_at: isoDate,
});
export type TTimeLog = z.infer<typeof ZTimeLog>;

/** Minutes one time log may hold: at least one, at most a week. */
export const ZLoggedMinutes = z.number().int().min(1).max(10_080);

export const timeLogsContract = {
  list: query({
    path: "/tasks/{task_id}/time-logs",
    access: "agent",
    summary: "Time logged on a task.",
    input: byTaskId,
    output: z.array(ZTimeLog),
  }),
  add: mutation({
    method: "POST",
    path: "/tasks/{task_id}/time-logs",
    access: "agent",
    summary: "Log AI or human minutes on a task.",
    input: z.object({
      task_id: ZId,
      minutes: ZLoggedMinutes,
      source: z.enum(TIME_LOG_SOURCES).optional(),
      note: z.string().max(2000).nullable().optional(),
    }),
    output: ZTimeLog,
  }),
};

import { z } from "zod";
import { launchCommandProblem } from "./launch-command.ts";
import { ZId } from "./schemas.ts";

/*
 * Building blocks the routers' input and output schemas share. Internal to the
 * package: clients use the schemas built from them.
 */

export const isoDate = z.string();
export const nullableDate = isoDate.nullable();

export const ZOk = z.object({ ok: z.literal(true) });
/** A boolean, or "true"/"false" as a query string sends it. */
export const ZBool = z.union([z.boolean(), z.enum(["true", "false"]).transform((v) => v === "true")]);
export const byId = z.object({ id: ZId });
export const byTaskId = z.object({ task_id: ZId });
export const workspaceId = ZId.optional();
export const text = (max: number) => z.string().max(max);
export const ZPath = z.string().min(1).max(4096);
/** An agent's launch_command: refused when saved if the launcher could not parse it, saying where. */
export const ZLaunchCommand = z
  .string()
  .trim()
  .min(1)
  .max(4000)
  .superRefine((value, ctx) => {
    const problem = launchCommandProblem(value);
    if (problem) {
      ctx.addIssue({
        code: "custom",
        message: problem.message,
        params: { code: "LAUNCH_COMMAND_INVALID", problem: problem.problem, position: problem.position },
      });
    }
  });
/** A run time limit in minutes (a week at most), per agent or per task; null = the setting's. */
export const ZRunTimeoutMinutes = z.number().int().min(1).max(10_080);

import { z } from "zod";
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
export const ZLaunchCommand = z.string().trim().min(1).max(4000);

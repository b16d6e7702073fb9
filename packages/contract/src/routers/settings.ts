import { z } from "zod";
import { nullableDate } from "../fields.ts";
import { mutation, query } from "../procedure.ts";

export const ZSetting = z.object({
  key: z.string(),
  /** Null for secrets, which are never returned. */
  value: z.string().nullable(),
  secret: z.boolean(),
  is_set: z.boolean(),
  description: z.string(),
  updated_at: nullableDate,
  updated_by: z.string().nullable(),
});
export type TSetting = z.infer<typeof ZSetting>;

const ZSettingKey = z.string().min(1).max(100);

export const settingsContract = {
  list: query({
    path: "/settings",
    access: "user",
    summary: "All settings with their values (secrets only say whether they are set).",
    input: z.object({}),
    output: z.array(ZSetting),
  }),
  get: query({
    path: "/settings/{key}",
    access: "user",
    summary: "One setting.",
    input: z.object({ key: ZSettingKey }),
    output: ZSetting,
  }),
  put: mutation({
    method: "PUT",
    path: "/settings/{key}",
    access: "operator",
    summary: 'Change a setting: {"value":"..."}; a bad value is refused naming the key.',
    input: z.object({
      key: ZSettingKey,
      value: z.union([z.string().max(10_000), z.number(), z.boolean()]).transform(String),
    }),
    output: ZSetting,
  }),
  rotateServiceToken: mutation({
    method: "POST",
    path: "/settings/service_api_token/rotate",
    access: "operator",
    summary: "Generate a new service token; it is returned this once and never again.",
    input: z.object({}),
    output: z.object({ token: z.string() }),
  }),
};

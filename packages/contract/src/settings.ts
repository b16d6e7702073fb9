import { z } from "zod";

const boolString = z.enum(["true", "false"], { error: 'must be "true" or "false"' });
const intString = (min: number, max: number) =>
  z
    .string()
    .regex(/^\d+$/, { error: `must be a whole number between ${min} and ${max}` })
    .refine((v) => Number(v) >= min && Number(v) <= max, {
      error: `must be a whole number between ${min} and ${max}`,
    });

const agentCaps = z.string().refine(
  (v) => {
    try {
      const parsed: unknown = JSON.parse(v);
      return (
        typeof parsed === "object" &&
        parsed !== null &&
        !Array.isArray(parsed) &&
        Object.values(parsed).every((n) => Number.isInteger(n) && (n as number) >= 0 && (n as number) <= 10000)
      );
    } catch {
      return false;
    }
  },
  { error: 'must be a JSON object of agent slug to a whole number, e.g. {"codex":2}' },
);

export interface SettingDef {
  schema: z.ZodType<string>;
  description: string;
  /** Secret values are stored hashed and never returned. */
  secret?: boolean;
  /** Only instance admins and the service token may change it. */
  instanceOnly?: boolean;
}

/** Every setting the system knows; an unknown key is refused. */
export const SETTINGS = {
  dispatch_enabled: {
    schema: boolString,
    description: "Launchers receive work only while this is true.",
  },
  dispatch_stale_minutes: {
    schema: intString(1, 10080),
    description: "A task in dispatching longer than this is reconciled by the watchdog.",
  },
  dispatch_worker_stale_seconds: {
    schema: intString(10, 86400),
    description: "A worker whose last heartbeat is older than this is stale; its tasks are recovered.",
  },
  dispatch_max_concurrent: {
    schema: intString(0, 100000),
    description: "Global cap on tasks in dispatching + doing (0 = no cap).",
  },
  dispatch_agent_caps: {
    schema: agentCaps,
    description: 'Per-agent caps on tasks in dispatching + doing, as JSON: {"codex":2}.',
  },
  dispatch_failure_alert_threshold: {
    schema: intString(1, 100),
    description: "Failures or stale recoveries of one task before its alert is raised and a triage task opened.",
  },
  service_api_token: {
    schema: z.string().min(24, { error: "must be at least 24 characters" }).max(512),
    description: "Token for X-OPS-Service-Token (stored hashed, never shown).",
    secret: true,
    instanceOnly: true,
  },
} satisfies Record<string, SettingDef>;

export type SettingKey = keyof typeof SETTINGS;
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

/** Validates a setting value; returns the stored string or an error message. */
export function validateSetting(
  key: string,
  value: string,
): { ok: true; value: string } | { ok: false; message: string } {
  if (!isSettingKey(key)) {
    return { ok: false, message: `unknown setting "${key}"; known settings: ${SETTING_KEYS.join(", ")}` };
  }
  const result = SETTINGS[key].schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return { ok: false, message: `${key} ${result.error.issues[0]?.message ?? "is invalid"}` };
}

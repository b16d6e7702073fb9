import { z } from "zod";
import type { TErrorReason, TMessageParams } from "./messages.ts";

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

/** The rule a refused value broke, for the app to say in words (messages.ts' ERROR_REASONS). */
export interface SettingRule {
  reason: TErrorReason;
  params?: TMessageParams;
}

const intSetting = (min: number, max: number) => ({
  schema: intString(min, max),
  range: [min, max] as const,
  rule: { reason: "setting_int_range", params: { min, max } } satisfies SettingRule,
});

export interface SettingDef {
  schema: z.ZodType<string>;
  /** A whole-number setting's inclusive bounds, as its schema enforces them (the API tests each bound). */
  range?: readonly [min: number, max: number];
  rule: SettingRule;
  description: string;
  /** The value in force when the key is missing or unreadable (seeded on first start). */
  default?: string;
  /** Secret values are stored hashed and never returned. */
  secret?: boolean;
  /**
   * Only instance admins and the service token may change it. Every setting
   * today is instance-wide (a workspace admin pauses its own workspace with
   * dispatch.setWorkspaceDispatch instead); the flag says so per key for the app.
   */
  instanceOnly?: boolean;
}

/** Every setting the system knows; an unknown key is refused. */
export const SETTINGS = {
  dispatch_enabled: {
    schema: boolString,
    rule: { reason: "setting_bool" },
    default: "false",
    description: "Launchers receive work only while this is true.",
    instanceOnly: true,
  },
  dispatch_stale_minutes: {
    ...intSetting(1, 10080),
    default: "20",
    description: "A task in dispatching longer than this is reconciled by the watchdog.",
    instanceOnly: true,
  },
  dispatch_worker_stale_seconds: {
    ...intSetting(10, 86400),
    default: "90",
    description: "A worker whose last heartbeat is older than this is stale; its tasks are recovered.",
    instanceOnly: true,
  },
  dispatch_max_concurrent: {
    ...intSetting(0, 100000),
    default: "0",
    description: "Global cap on tasks in dispatching + doing (0 = no cap).",
    instanceOnly: true,
  },
  dispatch_agent_caps: {
    schema: agentCaps,
    rule: { reason: "setting_agent_caps" },
    default: "{}",
    description: 'Per-agent caps on tasks in dispatching + doing, as JSON: {"codex":2}.',
    instanceOnly: true,
  },
  dispatch_failure_alert_threshold: {
    ...intSetting(1, 100),
    default: "3",
    description: "Failures or stale recoveries of one task before its alert is raised and a triage task opened.",
    instanceOnly: true,
  },
  service_api_token: {
    schema: z.string().min(24, { error: "must be at least 24 characters" }).max(512),
    rule: { reason: "setting_too_short", params: { min: 24 } },
    description: "Token for X-OPS-Service-Token (stored hashed, never shown).",
    secret: true,
    instanceOnly: true,
  },
} satisfies Record<string, SettingDef>;

export type SettingKey = keyof typeof SETTINGS;

/** Every non-secret setting's default, by key: what the seed writes and the parsers fall back to. */
export const SETTING_DEFAULTS: Readonly<Record<string, string>> = Object.fromEntries(
  Object.entries(SETTINGS as Record<string, SettingDef>).flatMap(([key, def]) =>
    def.default === undefined ? [] : [[key, def.default]],
  ),
);

/** A whole-number setting's default (the runbook's fallbacks: 20 min, 90 s, …). */
export function defaultIntSetting(key: SettingKey): number {
  return Number((SETTINGS[key] as SettingDef).default);
}
export const SETTING_KEYS = Object.keys(SETTINGS) as SettingKey[];

export function isSettingKey(key: string): key is SettingKey {
  return Object.hasOwn(SETTINGS, key);
}

export type SettingCheck =
  | { ok: true; value: string }
  | { ok: false; message: string; reason: TErrorReason; params: TMessageParams };

/**
 * Validates a setting value; returns the stored string, or why not: an
 * English message naming the key, and the rule broken with its parameters.
 * Pure: rules that need the database (agent slugs in dispatch_agent_caps)
 * are the API's.
 */
export function validateSetting(key: string, value: string): SettingCheck {
  if (!isSettingKey(key)) {
    return {
      ok: false,
      message: `unknown setting "${key}"; known settings: ${SETTING_KEYS.join(", ")}`,
      reason: "setting_unknown",
      params: { key, known: SETTING_KEYS },
    };
  }
  const def: SettingDef = SETTINGS[key];
  const result = def.schema.safeParse(value);
  if (result.success) return { ok: true, value: result.data };
  return {
    ok: false,
    message: `${key} ${result.error.issues[0]?.message ?? "is invalid"}`,
    reason: def.rule.reason,
    params: { key, ...def.rule.params },
  };
}

/** The agent slugs a dispatch_agent_caps value names (call after validateSetting accepted it). */
export function agentCapsSlugs(value: string): string[] {
  return Object.keys(JSON.parse(value) as Record<string, number>);
}

import { isSettingKey, SETTING_KEYS, SETTINGS, type SettingKey, validateSetting } from "@ops/contract";
import { type DbOrTx, DEFAULT_SETTINGS, opsSettings } from "@ops/db";
import { eq, inArray } from "drizzle-orm";
import { hashToken } from "../auth/crypto.ts";
import { audit } from "./audit.ts";
import { invalid, notFound } from "./errors.ts";

/** Internal marker: the admin or token was generated at first start and should be rotated. */
export const GENERATED_DEFAULTS_KEY = "_generated_defaults";

export interface DispatchSettings {
  dispatchEnabled: boolean;
  staleMinutes: number;
  workerStaleSeconds: number;
  maxConcurrent: number;
  agentCaps: Record<string, number>;
  failureAlertThreshold: number;
}

/** The settings dispatch reads together (the claim statement reads them in SQL). */
export const DISPATCH_KEYS = [
  "dispatch_enabled",
  "dispatch_stale_minutes",
  "dispatch_worker_stale_seconds",
  "dispatch_max_concurrent",
  "dispatch_agent_caps",
  "dispatch_failure_alert_threshold",
];

/** Stored values to dispatch settings, with the runbook's fallbacks for missing or bad values. */
export function parseDispatchSettings(values: Record<string, string>): DispatchSettings {
  const v = (key: string) => values[key] ?? DEFAULT_SETTINGS[key] ?? "";
  let agentCaps: Record<string, number> = {};
  try {
    agentCaps = JSON.parse(v("dispatch_agent_caps")) as Record<string, number>;
  } catch {
    agentCaps = {};
  }
  return {
    dispatchEnabled: v("dispatch_enabled") === "true",
    staleMinutes: Number(v("dispatch_stale_minutes")) || 20,
    workerStaleSeconds: Number(v("dispatch_worker_stale_seconds")) || 90,
    maxConcurrent: Number(v("dispatch_max_concurrent")) || 0,
    agentCaps,
    failureAlertThreshold: Number(v("dispatch_failure_alert_threshold")) || 3,
  };
}

/** The dispatch settings in one read. */
export async function readDispatchSettings(db: DbOrTx): Promise<DispatchSettings> {
  const rows = await db
    .select({ key: opsSettings.key, value: opsSettings.value })
    .from(opsSettings)
    .where(inArray(opsSettings.key, DISPATCH_KEYS));
  return parseDispatchSettings(Object.fromEntries(rows.map((r) => [r.key, r.value])));
}

export async function readSetting(db: DbOrTx, key: string): Promise<string | undefined> {
  const [row] = await db.select({ value: opsSettings.value }).from(opsSettings).where(eq(opsSettings.key, key));
  return row?.value;
}

export async function writeRawSetting(db: DbOrTx, key: string, value: string, by: string | null): Promise<void> {
  await db
    .insert(opsSettings)
    .values({ key, value, updatedBy: by })
    .onConflictDoUpdate({ target: opsSettings.key, set: { value, updatedBy: by, updatedAt: new Date() } });
}

export interface SettingView {
  key: string;
  value: string | null;
  secret: boolean;
  is_set: boolean;
  description: string;
  updated_at: string | null;
  updated_by: string | null;
}

export async function listSettings(db: DbOrTx): Promise<SettingView[]> {
  const rows = await db.select().from(opsSettings).where(inArray(opsSettings.key, SETTING_KEYS));
  return SETTING_KEYS.map((key) => toView(key, rows.find((r) => r.key === key)));
}

export async function getSetting(db: DbOrTx, key: string): Promise<SettingView> {
  if (!isSettingKey(key)) throw notFound(`setting "${key}"`);
  const [row] = await db.select().from(opsSettings).where(eq(opsSettings.key, key));
  return toView(key, row);
}

/** Validates and stores a setting; secrets are stored hashed. */
export async function putSetting(
  db: DbOrTx,
  key: string,
  rawValue: string,
  actor: string,
  ip: string | null,
): Promise<SettingView> {
  const checked = validateSetting(key, rawValue);
  if (!checked.ok) throw invalid(isSettingKey(key) ? "value" : "key", checked.message);
  const def = SETTINGS[key as SettingKey];
  const secret = "secret" in def && def.secret;
  const before = await readSetting(db, key);
  await writeRawSetting(db, key, secret ? hashToken(checked.value) : checked.value, actor);
  await audit(db, {
    actor,
    action: "settings.updated",
    targetType: "setting",
    targetId: key,
    details: secret ? { secret: true } : { from: before ?? null, to: checked.value },
    ip,
  });
  return getSetting(db, key);
}

function toView(key: SettingKey, row: typeof opsSettings.$inferSelect | undefined): SettingView {
  const def = SETTINGS[key];
  const secret = "secret" in def && def.secret === true;
  return {
    key,
    value: secret ? null : (row?.value ?? DEFAULT_SETTINGS[key] ?? null),
    secret,
    is_set: row !== undefined,
    description: def.description,
    updated_at: row?.updatedAt.toISOString() ?? null,
    updated_by: row?.updatedBy ?? null,
  };
}

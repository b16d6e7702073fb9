import {
  agentCapsSlugs,
  defaultIntSetting,
  isSettingKey,
  SETTING_DEFAULTS,
  SETTING_KEYS,
  SETTINGS,
  type SettingKey,
  type TSetting,
  validateSetting,
} from "@ops/contract";
import { agents, type DbOrTx, opsSettings, readSetting, writeSetting } from "@ops/db";
import { eq, inArray, sql } from "drizzle-orm";
import { hashToken } from "../auth/crypto.ts";
import { audit } from "../audit.ts";
import { invalid, notFound } from "../errors.ts";

/** NOTIFY channel of a changed setting (payload: its key); putSetting sends it after the write. settings-cache.ts listens. */
export const SETTINGS_CHANNEL = "ops_settings_changed";

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
] as const satisfies readonly SettingKey[];

/** Stored values to dispatch settings; a missing or unreadable value means the contract's default. */
export function parseDispatchSettings(values: Record<string, string>): DispatchSettings {
  const v = (key: SettingKey) => values[key] ?? SETTING_DEFAULTS[key] ?? "";
  const int = (key: SettingKey) => Number(v(key)) || defaultIntSetting(key);
  let agentCaps: Record<string, number> = {};
  try {
    agentCaps = JSON.parse(v("dispatch_agent_caps")) as Record<string, number>;
  } catch {
    agentCaps = {};
  }
  return {
    dispatchEnabled: v("dispatch_enabled") === "true",
    staleMinutes: int("dispatch_stale_minutes"),
    workerStaleSeconds: int("dispatch_worker_stale_seconds"),
    maxConcurrent: int("dispatch_max_concurrent"),
    agentCaps,
    failureAlertThreshold: int("dispatch_failure_alert_threshold"),
  };
}

/** A whole-number setting read in SQL, with parseDispatchSettings' fallback: the contract's default for a missing, zero or unreadable value. */
export const intSetting = (key: SettingKey) =>
  sql`coalesce(nullif((select case when value ~ '^[0-9]{1,9}$' then value::int end from ops_settings where key = ${key}), 0), ${defaultIntSetting(key)}::int)`;

/** The dispatch settings in one read. */
export async function readDispatchSettings(db: DbOrTx): Promise<DispatchSettings> {
  const rows = await db
    .select({ key: opsSettings.key, value: opsSettings.value })
    .from(opsSettings)
    .where(inArray(opsSettings.key, DISPATCH_KEYS));
  return parseDispatchSettings(Object.fromEntries(rows.map((r) => [r.key, r.value])));
}

export async function listSettings(db: DbOrTx): Promise<TSetting[]> {
  const rows = await db.select().from(opsSettings).where(inArray(opsSettings.key, SETTING_KEYS));
  return SETTING_KEYS.map((key) => toView(key, rows.find((r) => r.key === key)));
}

export async function getSetting(db: DbOrTx, key: string): Promise<TSetting> {
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
): Promise<TSetting> {
  const checked = validateSetting(key, rawValue);
  if (!checked.ok) throw invalid(isSettingKey(key) ? "value" : "key", checked.message, { reason: checked.reason, ...checked.params });
  if (key === "dispatch_agent_caps") await assertKnownAgentSlugs(db, checked.value);
  const def = SETTINGS[key as SettingKey];
  const secret = "secret" in def && def.secret;
  const before = await readSetting(db, key);
  await writeSetting(db, key, secret ? hashToken(checked.value) : checked.value, actor);
  // Every API instance caches the dispatch settings (settings-cache.ts): this tells them to read again.
  await db.execute(sql`select pg_notify(${SETTINGS_CHANNEL}, ${key})`);
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

/**
 * A cap for a slug no agent has would never apply: a typo ({"codx":2}) would
 * leave the real agent uncapped without a word. Caps are instance-wide, so
 * any workspace's agent counts.
 */
async function assertKnownAgentSlugs(db: DbOrTx, value: string): Promise<void> {
  const slugs = agentCapsSlugs(value);
  if (slugs.length === 0) return;
  const known = new Set((await db.select({ slug: agents.slug }).from(agents).where(inArray(agents.slug, slugs))).map((r) => r.slug));
  const unknown = slugs.filter((slug) => !known.has(slug));
  if (unknown.length > 0) {
    throw invalid("value", `dispatch_agent_caps names unknown agent slug(s): ${unknown.join(", ")}`, {
      reason: "setting_unknown_agents",
      key: "dispatch_agent_caps",
      agents: unknown,
    });
  }
}

function toView(key: SettingKey, row: typeof opsSettings.$inferSelect | undefined): TSetting {
  const def = SETTINGS[key];
  const secret = "secret" in def && def.secret === true;
  return {
    key,
    value: secret ? null : (row?.value ?? SETTING_DEFAULTS[key] ?? null),
    secret,
    is_set: row !== undefined,
    description: def.description,
    updated_at: row?.updatedAt.toISOString() ?? null,
    updated_by: row?.updatedBy ?? null,
  };
}

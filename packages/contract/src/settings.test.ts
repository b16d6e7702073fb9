import { describe, expect, it } from "vitest";
import { defaultIntSetting, isSettingKey, SETTING_DEFAULTS, SETTING_KEYS, SETTINGS, type SettingDef, validateSetting } from "./settings.ts";

const refusal = (key: string, value: string) => {
  const result = validateSetting(key, value);
  return result.ok ? undefined : result.message;
};

describe("settings: one table, validated the same way by the API and the web app", () => {
  it("knows exactly the runbook's keys and their defaults; the secret has none", () => {
    expect(SETTING_KEYS).toEqual([
      "dispatch_enabled",
      "dispatch_stale_minutes",
      "dispatch_worker_stale_seconds",
      "dispatch_max_concurrent",
      "dispatch_agent_caps",
      "dispatch_failure_alert_threshold",
      "service_api_token",
    ]);
    expect(SETTING_DEFAULTS).toStrictEqual({
      dispatch_enabled: "false",
      dispatch_stale_minutes: "20",
      dispatch_worker_stale_seconds: "90",
      dispatch_max_concurrent: "0",
      dispatch_agent_caps: "{}",
      dispatch_failure_alert_threshold: "3",
    });
    expect(defaultIntSetting("dispatch_stale_minutes")).toBe(20);
    expect(defaultIntSetting("dispatch_worker_stale_seconds")).toBe(90);
    expect((SETTINGS.service_api_token as SettingDef).secret).toBe(true);
    expect((SETTINGS.service_api_token as SettingDef).instanceOnly).toBe(true);
    expect((SETTINGS.dispatch_enabled as SettingDef).secret).toBeUndefined();
  });

  it("tells known keys from unknown ones, inherited names included", () => {
    expect(isSettingKey("dispatch_enabled")).toBe(true);
    expect(isSettingKey("no_such_key")).toBe(false);
    expect(isSettingKey("toString")).toBe(false);
    expect(isSettingKey("__proto__")).toBe(false);
    expect(refusal("no_such_key", "1")).toBe(`unknown setting "no_such_key"; known settings: ${SETTING_KEYS.join(", ")}`);
  });

  it("accepts exactly the bounds of every whole-number setting and refuses one past them, naming the key and the range", () => {
    const ranged = SETTING_KEYS.filter((k) => (SETTINGS[k] as SettingDef).range);
    expect(ranged).toEqual(["dispatch_stale_minutes", "dispatch_worker_stale_seconds", "dispatch_max_concurrent", "dispatch_failure_alert_threshold"]);
    expect((SETTINGS.dispatch_stale_minutes as SettingDef).range).toEqual([1, 10080]);
    expect((SETTINGS.dispatch_worker_stale_seconds as SettingDef).range).toEqual([10, 86400]);
    expect((SETTINGS.dispatch_max_concurrent as SettingDef).range).toEqual([0, 100000]);
    expect((SETTINGS.dispatch_failure_alert_threshold as SettingDef).range).toEqual([1, 100]);
    for (const key of ranged) {
      const [min, max] = (SETTINGS[key] as SettingDef).range!;
      expect(validateSetting(key, String(min))).toEqual({ ok: true, value: String(min) });
      expect(validateSetting(key, String(max))).toEqual({ ok: true, value: String(max) });
      const message = `${key} must be a whole number between ${min} and ${max}`;
      for (const bad of [String(min - 1), String(max + 1), "", "x1", "1x", "1.5", "-0", " 5", "1e2"]) {
        expect(refusal(key, bad), `${key}=${JSON.stringify(bad)}`).toBe(message);
      }
    }
  });

  it("accepts only the words true and false for dispatch_enabled", () => {
    expect(validateSetting("dispatch_enabled", "true")).toEqual({ ok: true, value: "true" });
    expect(validateSetting("dispatch_enabled", "false")).toEqual({ ok: true, value: "false" });
    for (const bad of ["1", "TRUE", "yes", ""]) expect(refusal("dispatch_enabled", bad)).toBe('dispatch_enabled must be "true" or "false"');
  });

  it("accepts per-agent caps as a JSON object of whole numbers from 0 to 10000", () => {
    for (const good of ["{}", '{"codex":0}', '{"codex":10000,"opencode":2}']) expect(validateSetting("dispatch_agent_caps", good)).toEqual({ ok: true, value: good });
    const message = 'dispatch_agent_caps must be a JSON object of agent slug to a whole number, e.g. {"codex":2}';
    for (const bad of ['{"codex":-1}', '{"codex":10001}', '{"codex":1.5}', '{"codex":"2"}', '{"codex":null}', "[1]", "[]", "null", "2", '"{}"', "{", ""]) {
      expect(refusal("dispatch_agent_caps", bad), bad).toBe(message);
    }
  });

  it("accepts a service token of 24 to 512 characters", () => {
    expect(validateSetting("service_api_token", "t".repeat(24)).ok).toBe(true);
    expect(validateSetting("service_api_token", "t".repeat(512)).ok).toBe(true);
    expect(refusal("service_api_token", "t".repeat(23))).toBe("service_api_token must be at least 24 characters");
    expect(refusal("service_api_token", "t".repeat(513))).toMatch(/^service_api_token /);
  });

  it("describes every setting for the settings page", () => {
    for (const key of SETTING_KEYS) expect((SETTINGS[key] as SettingDef).description.length, key).toBeGreaterThan(10);
  });
});

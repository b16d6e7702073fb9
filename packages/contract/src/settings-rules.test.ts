import { describe, expect, it } from "vitest";
import { agentCapsSlugs, SETTING_KEYS, SETTINGS, type SettingDef, validateSetting } from "./settings.ts";

// What a refusal carries besides its English message: the rule broken and its
// parameters, from which the API and the web app say it in the user's
// language (messages.ts' ERROR_REASONS), and who may change a setting.
describe("settings: the rule a refused value broke", () => {
  it("names the range of a whole-number setting and the key", () => {
    expect(validateSetting("dispatch_stale_minutes", "0")).toEqual({
      ok: false,
      message: "dispatch_stale_minutes must be a whole number between 1 and 10080",
      reason: "setting_int_range",
      params: { key: "dispatch_stale_minutes", min: 1, max: 10080 },
    });
    for (const key of SETTING_KEYS) {
      const range = (SETTINGS[key] as SettingDef).range;
      if (!range) continue;
      const result = validateSetting(key, "x");
      expect(result.ok, key).toBe(false);
      if (!result.ok) {
        expect(result.reason, key).toBe("setting_int_range");
        expect(result.params, key).toStrictEqual({ key, min: range[0], max: range[1] });
      }
    }
  });

  it("says which rule dispatch_enabled, the agent caps and the service token broke", () => {
    expect(validateSetting("dispatch_enabled", "yes")).toMatchObject({ ok: false, reason: "setting_bool", params: { key: "dispatch_enabled" } });
    expect(validateSetting("dispatch_agent_caps", '{"codex":-1}')).toMatchObject({
      ok: false,
      reason: "setting_agent_caps",
      params: { key: "dispatch_agent_caps" },
    });
    expect(validateSetting("service_api_token", "short")).toEqual({
      ok: false,
      message: "service_api_token must be at least 24 characters",
      reason: "setting_too_short",
      params: { key: "service_api_token", min: 24 },
    });
  });

  it("refuses an unknown key with the list of known ones", () => {
    expect(validateSetting("dispatch_enable", "true")).toEqual({
      ok: false,
      message: `unknown setting "dispatch_enable"; known settings: ${SETTING_KEYS.join(", ")}`,
      reason: "setting_unknown",
      params: { key: "dispatch_enable", known: SETTING_KEYS },
    });
  });

  it("lets only instance admins and the service token change any of them", () => {
    for (const key of SETTING_KEYS) expect((SETTINGS[key] as SettingDef).instanceOnly, key).toBe(true);
  });
});

describe("settings: the agents named by dispatch_agent_caps", () => {
  it("lists the slugs of an accepted value, none for {}", () => {
    expect(agentCapsSlugs('{"codex":2,"opencode":0}')).toEqual(["codex", "opencode"]);
    expect(agentCapsSlugs("{}")).toEqual([]);
  });
});

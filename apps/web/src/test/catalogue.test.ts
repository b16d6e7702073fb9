// @vitest-environment node
import {
  BLOCKED_REASON_CODES,
  DISPATCH_REASON_CODES,
  ERROR_REASONS,
  HEALTH_PROBLEM_CODES,
  OPS_ERROR_CODES,
  SETTING_KEYS,
  SETTINGS,
  STALE_REASONS,
  TASK_STATUSES,
  validateSetting,
} from "@ops/contract";
import { describe, expect, it } from "vitest";
import { CATALOGUES, LANGS, type MessageKey, translate } from "../i18n/index.tsx";
import { blockedReasonText, problemText } from "../i18n/render.ts";
import { describeError, settingDescription, staleReasonLabel, statusLabel } from "../i18n/words.ts";
import { opsError } from "./fake-api.tsx";

// One language at a time: every key in both catalogues with the same
// placeholders, and every code the API answers with rendered from the app's
// own words — never the API's English shown in the Spanish app.

const ENGLISH = "THE API'S ENGLISH SENTENCE";
const es = (key: MessageKey, vars?: Record<string, unknown>) => translate("es", key, vars as never);
const placeholders = (text: string) =>
  [...text.replace(/\{\w+, plural, one \{[^{}]*\} other \{[^{}]*\}\}/g, (m) => `{${m.slice(1, m.indexOf(","))}}`).matchAll(/\{(\w+)\}/g)]
    .map((m) => m[1])
    .sort();

describe("the catalogues", () => {
  it("have the same keys, none empty, with the same placeholders in every language", () => {
    const reference = Object.keys(CATALOGUES.es).sort();
    for (const lang of LANGS) {
      const catalogue = CATALOGUES[lang] as Record<string, string>;
      expect(Object.keys(catalogue).sort(), lang).toEqual(reference);
      for (const key of reference) {
        expect(catalogue[key]?.trim(), `${lang} ${key}`).toBeTruthy();
        expect(placeholders(catalogue[key]!), `${lang} ${key}`).toEqual(placeholders((CATALOGUES.es as Record<string, string>)[key]!));
      }
    }
  });
});

describe("in Spanish, every code the API answers with", () => {
  it("error codes and their reasons are said in Spanish, not with the API's English", () => {
    for (const code of OPS_ERROR_CODES) {
      const words = describeError(opsError(code, ENGLISH), es);
      expect(words.summary, code).not.toBe(es("error.generic"));
      expect(words.detail, code).toBeUndefined();
    }
    for (const reason of ERROR_REASONS) {
      const words = describeError(opsError("VALIDATION", ENGLISH, "value", { reason, field: "value" }), es);
      expect(words.summary, reason).toBe(es(`errorReason.${reason}` as MessageKey, { reason, field: "Valor" }));
      expect(words.summary, reason).not.toContain(ENGLISH);
    }
  });

  it("health problems and dispatch reasons are said in Spanish", () => {
    for (const code of HEALTH_PROBLEM_CODES) expect(problemText(es, { code, message: ENGLISH, params: {} }, "problem"), code).not.toBe(ENGLISH);
    for (const code of DISPATCH_REASON_CODES) expect(problemText(es, { code, message: ENGLISH, params: {} }, "reason"), code).not.toBe(ENGLISH);
    // A code this app does not know yet: the API's words are better than none.
    expect(problemText(es, { code: "SOMETHING_NEW", message: ENGLISH }, "problem")).toBe(ENGLISH);
  });

  it("settings' descriptions and refusals are said in Spanish", () => {
    for (const key of SETTING_KEYS) {
      expect(settingDescription(es, key, SETTINGS[key].description), key).not.toBe(SETTINGS[key].description);
      const check = validateSetting(key, "x");
      if (check.ok) continue;
      const words = describeError({ data: { opsCode: "VALIDATION", params: { ...check.params, reason: check.reason } } }, es).summary;
      expect(words, key).not.toBe(check.message);
      expect(words, key).toContain(key);
      expect(words, key).not.toMatch(/\{\w+\}/);
    }
  });

  it("the system's blocked reasons are recognised and said in Spanish, the stored text kept beside", () => {
    const written: Record<(typeof BLOCKED_REASON_CODES)[number], string> = {
      human_gate: "Human Gate: sensitive task needs approval by an admin before dispatch",
      stale_dispatch: "stale dispatch: in dispatching for more than 20 min (worker w-1)",
      worker_lost: "worker w-1 lost: no heartbeat for more than 90s while the task was doing",
      claim_lost: "claim lost: worker w-1 is alive but has not reported the task running for 90s after claiming it",
      cancelled: "cancelled by user:admin",
      blocked_by_operator: "blocked by operator",
      runtime_missing: "runtime no disponible en host: codex",
      exited_early: "launcher process exited early (code=1, signal=null)",
      agent_failed: "agent process failed (code=2, signal=null) after 61.0s",
      agent_stopped: "cancelled: agent stopped (signal=SIGTERM)",
      no_exit_record: "agent process ended without an exit record (killed with its wrapper, or the log folder became unwritable)",
      timed_out: "agent timed out after 120 min",
      program_not_allowed: "launch_command program /bin/sh is not allowed on this host; add it to OPS_ALLOWED_PROGRAMS",
      workdir_not_allowed: "working folder /srv/escape (resolves to /etc) is outside this host's OPS_WORKDIR_ROOTS (/srv, /var/lib/ops-agent/ops-workdirs)",
    };
    for (const code of BLOCKED_REASON_CODES) {
      const shown = blockedReasonText(es, written[code]);
      expect(shown.stored, code).toBe(written[code]);
      expect(shown.text, code).not.toBe(written[code]);
      expect(shown.text, code).not.toMatch(/\{\w+\}/);
    }
    // A person's reason is data: shown as written.
    expect(blockedReasonText(es, "esperando al cliente")).toEqual({ text: "esperando al cliente", stored: undefined });
  });

  it("statuses and stale reasons have Spanish labels", () => {
    for (const status of TASK_STATUSES) expect(statusLabel(es, status), status).not.toBe(status);
    for (const reason of Object.keys(STALE_REASONS)) expect(staleReasonLabel(es, reason), reason).not.toBe(reason);
  });
});

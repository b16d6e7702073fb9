// @vitest-environment node
// (The project default, jsdom 31, does not start on Node 20; these need no DOM.)
import { describe, expect, it } from "vitest";
import { SLUG_PATTERN } from "@ops/contract";
import { describeError } from "../i18n/words.ts";
import { formatAge } from "../format.ts";
import { htmlPattern } from "../html-pattern.ts";
import { translate } from "../i18n/index.tsx";
import { parseMinutes } from "../pages/automations/WatchdogSection.tsx";
import { IDLE_REFRESH_MS, LIVE_REFRESH_MS, PICKABLE_STATUSES, refreshFor, suggestedStatus } from "../pages/tasks/live.ts";
import { readFilters } from "../pages/tasks/task-filters.ts";
import { canActIn } from "../session.tsx";
import { opsError } from "./fake-api.tsx";

describe("small pieces", () => {
  it("formats ages the way operators read them", () => {
    expect(formatAge(4)).toBe("4 s");
    expect(formatAge(75)).toBe("1 min 15 s");
    expect(formatAge(1500)).toBe("25 min");
    expect(formatAge(7300)).toBe("2 h 1 min");
    expect(formatAge(3 * 86400)).toBe("3 d");
  });

  it("accepts the watchdog minutes the API accepts: at least one", () => {
    expect(parseMinutes("0")).toBeUndefined();
    expect(parseMinutes("1")).toBe(1);
    expect(parseMinutes(" 20 ")).toBe(20);
    expect(parseMinutes("10080")).toBe(10080);
    expect(parseMinutes("10081")).toBeUndefined();
    expect(parseMinutes("-1")).toBeUndefined();
    expect(parseMinutes("1.5")).toBeUndefined();
    expect(parseMinutes("")).toBeUndefined();
  });

  it("gives the new-agent form the contract's slug pattern in a form the browser compiles", () => {
    const pattern = htmlPattern(SLUG_PATTERN);
    // What a browser does with the attribute: anchored, `v` flag.
    const asBrowser = new RegExp(`^(?:${pattern})$`, "v");
    for (const slug of ["codex", "claude-code", "my_agent2", "0x", "a".repeat(40), "", "Codex", "-codex", "co dex", "a".repeat(41)]) {
      expect(asBrowser.test(slug), slug).toBe(SLUG_PATTERN.test(slug));
    }
  });

  it("reads task filters from the URL, ignoring nonsense", () => {
    expect(readFilters(new URLSearchParams("status=queued&agent=3&blocked=true&q=deploy&view=list&page=2"))).toEqual({
      status: "queued",
      agent: 3,
      blocked: true,
      q: "deploy",
      view: "list",
      page: 2,
    });
    expect(readFilters(new URLSearchParams("status=bogus&agent=x&blocked=maybe"))).toEqual({
      status: undefined,
      agent: undefined,
      blocked: undefined,
      q: "",
      view: "board",
      page: 0,
    });
  });

  it("lets workspace admins and instance admins act, members only look", () => {
    const base = { kind: "user" as const, id: 1, username: "u", is_instance_admin: false };
    expect(canActIn({ ...base, memberships: [{ workspace_id: 1, role: "admin" }] }, 1)).toBe(true);
    expect(canActIn({ ...base, memberships: [{ workspace_id: 1, role: "admin" }] }, 2)).toBe(false);
    expect(canActIn({ ...base, memberships: [{ workspace_id: 1, role: "member" }] }, 1)).toBe(false);
    expect(canActIn({ ...base, is_instance_admin: true, memberships: [] }, 5)).toBe(true);
  });

  it("puts API errors in words, in both languages, with the server's words only for a code it does not know", () => {
    const guard = opsError("DONE_GUARD", "AI task has no visible deliverable");
    const es = describeError(guard, (k, v) => translate("es", k, v));
    expect(es.code).toBe("DONE_GUARD");
    expect(es.summary).toMatch(/^No se puede marcar como hecha/);
    expect(es.detail).toBeUndefined();
    expect(describeError(guard, (k, v) => translate("en", k, v)).summary).toMatch(/^Cannot mark as done/);
    expect(describeError(new TypeError("Failed to fetch"), (k) => translate("en", k)).summary).toBe("Cannot reach OPS Center.");
    const unknown = describeError(opsError("SOMETHING_NEW", "a newer API says this"), (k) => translate("en", k));
    expect(unknown).toMatchObject({ summary: "Something went wrong.", detail: "a newer API says this" });
  });

  it("suggests the next step a person takes, never done for a task not started, and refreshes live work fast", () => {
    expect(suggestedStatus("backlog")).toBe("next");
    expect(suggestedStatus("next")).toBe("review");
    expect(suggestedStatus("review")).toBe("done");
    for (const status of ["backlog", "next", "waiting", "queued", "dispatching", "doing"] as const) {
      expect(suggestedStatus(status), status).not.toBe("done");
      expect(PICKABLE_STATUSES, status).toContain(suggestedStatus(status));
    }
    for (const status of ["queued", "dispatching", "doing"] as const) expect(refreshFor(status), status).toBe(LIVE_REFRESH_MS);
    expect(refreshFor("backlog")).toBe(IDLE_REFRESH_MS);
    expect(LIVE_REFRESH_MS).toBeLessThanOrEqual(2_000);
  });

  it("fills plurals and lists the way each language says them", () => {
    expect(translate("es", "watchdog.result", { n: 1, min: 20 })).toBe("Reconciliada 1 tarea con 20 min.");
    expect(translate("es", "watchdog.result", { n: 3, min: 20 })).toBe("Reconciliadas 3 tareas con 20 min.");
    expect(translate("en", "watchdog.result", { n: 1, min: 20 })).toBe("Reconciled 1 task with 20 min.");
    expect(translate("es", "problem.AGENT_NOT_COVERED", { agents: ["codex", "hermes"] })).toContain("codex y hermes");
    expect(translate("en", "problem.AGENT_NOT_COVERED", { agents: ["codex", "hermes"] })).toContain("codex and hermes");
  });
});

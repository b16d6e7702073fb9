import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { launchOf, pruneLaunchLogs } from "./log-retention.ts";

const DAY = 86_400_000;
const NOW = Date.parse("2026-12-01T12:00:00Z");
let dir: string;
afterEach(() => rmSync(dir, { recursive: true, force: true }));

/** The files one launch leaves (and what the old logrotate rule left beside them), all last written `daysAgo`. */
function launch(name: string, daysAgo: number, suffixes = [".log", ".err.log", ".exit", ".prompt.md"]) {
  for (const suffix of suffixes) {
    const path = join(dir, `${name}${suffix}`);
    writeFileSync(path, "x");
    const at = new Date(NOW - daysAgo * DAY);
    utimesSync(path, at, at);
  }
}

describe("pruning the detached logs of finished launches", () => {
  it("removes every file of a launch past the retention, and only those", () => {
    dir = mkdtempSync(join(tmpdir(), "ops-logs-"));
    launch("41-20261101T120000000Z", 30, [".log", ".err.log", ".exit", ".prompt.md", ".log.1", ".err.log.2.gz", ".exit.tmp"]);
    launch("42-20261125T120000000Z", 6);
    launch("43-20261110T120000000Z", 21);
    // A long run: its prompt is old, its .log was written yesterday: kept whole.
    launch("44-20261101T120000000Z", 30, [".prompt.md", ".exit"]);
    launch("44-20261101T120000000Z", 1, [".log"]);
    writeFileSync(join(dir, "notes.txt"), "not a launch file");
    mkdirSync(join(dir, "45-20261101T120000000Z.log"));
    const removed = pruneLaunchLogs(dir, { retentionDays: 14, now: NOW, inUse: new Set() });
    expect(removed).toEqual(["41-20261101T120000000Z", "43-20261110T120000000Z"]);
    expect(readdirSync(dir).sort()).toEqual([
      "42-20261125T120000000Z.err.log",
      "42-20261125T120000000Z.exit",
      "42-20261125T120000000Z.log",
      "42-20261125T120000000Z.prompt.md",
      "44-20261101T120000000Z.exit",
      "44-20261101T120000000Z.log",
      "44-20261101T120000000Z.prompt.md",
      "45-20261101T120000000Z.log",
      "notes.txt",
    ]);
  });

  it("keeps an old launch the launcher still holds (running, or output not yet with the API)", () => {
    dir = mkdtempSync(join(tmpdir(), "ops-logs-"));
    launch("50-20261001T000000000Z", 60);
    const inUse = new Set([join(dir, "50-20261001T000000000Z.log")]);
    expect(pruneLaunchLogs(dir, { retentionDays: 14, now: NOW, inUse })).toEqual([]);
    expect(existsSync(join(dir, "50-20261001T000000000Z.err.log"))).toBe(true);
  });

  it("names launches as the launch plan writes them", () => {
    expect(launchOf("7-20261130T060000123Z.err.log.1")).toBe("7-20261130T060000123Z");
    expect(launchOf("ops-dispatch-launcher.log")).toBeUndefined();
  });
});

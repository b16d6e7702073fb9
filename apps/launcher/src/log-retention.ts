import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

/**
 * The detached logs of one launch share a name, `<task>-<timestamp>`, before
 * their first dot: `.log`, `.err.log`, `.exit`, `.prompt.md`, and whatever an
 * old logrotate rule left beside them (`.log.1`, `.log.2.gz`).
 */
export const launchOf = (fileName: string) => {
  const match = /^(\d+-\d{8}T\d{6,9}Z)\./.exec(fileName);
  return match ? match[1] : undefined;
};

export interface PruneOptions {
  /** Files of launches whose newest file is older than this are removed. */
  retentionDays: number;
  now: number;
  /** Paths of launches the launcher still holds (running, output not all sent, outcome not reported). */
  inUse: ReadonlySet<string>;
}

/**
 * Removes the files of finished launches older than the retention period,
 * all of a launch's files together, judged by its newest file (a long run's
 * `.log` is as old as its last line). Launches still in use are kept whatever
 * their age. Answers the launches removed.
 */
export function pruneLaunchLogs(logDir: string, options: PruneOptions): string[] {
  let names: string[];
  try {
    names = readdirSync(logDir);
  } catch {
    return [];
  }
  const launches = new Map<string, { files: string[]; newest: number }>();
  for (const name of names) {
    const launch = launchOf(name);
    if (!launch) continue;
    const path = join(logDir, name);
    let mtime: number;
    try {
      const stat = statSync(path);
      if (!stat.isFile()) continue;
      mtime = stat.mtimeMs;
    } catch {
      continue;
    }
    const entry = launches.get(launch) ?? { files: [], newest: 0 };
    entry.files.push(path);
    entry.newest = Math.max(entry.newest, mtime);
    launches.set(launch, entry);
  }
  const inUse = new Set([...options.inUse].map((path) => launchOf(path.slice(path.lastIndexOf("/") + 1))).filter(Boolean));
  const cutoff = options.now - options.retentionDays * 86_400_000;
  const removed: string[] = [];
  for (const [launch, { files, newest }] of launches) {
    if (inUse.has(launch) || newest >= cutoff) continue;
    for (const file of files) rmSync(file, { force: true });
    removed.push(launch);
  }
  return removed.sort();
}

import { mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { LaunchRecord } from "./launch.ts";
import type { PendingReport } from "./reports.ts";

export interface SavedState {
  launches: LaunchRecord[];
  reports: PendingReport[];
}

/**
 * The runs this worker is responsible for, on disk, so a restarted launcher
 * re-adopts live agents and reports the ones that ended while it was down.
 * One file per worker id; written atomically (temp file + rename).
 */
export class LaunchState {
  readonly path: string;
  constructor(stateDir: string, workerId: string) {
    mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.path = join(stateDir, `${workerId}.json`);
  }

  load(): SavedState {
    try {
      const parsed = JSON.parse(readFileSync(this.path, "utf8")) as Partial<SavedState>;
      return { launches: Array.isArray(parsed.launches) ? parsed.launches : [], reports: Array.isArray(parsed.reports) ? parsed.reports : [] };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return { launches: [], reports: [] };
      throw new Error(`launcher state file ${this.path} is unreadable (${(error as Error).message}); move it aside to start fresh`);
    }
  }

  save(state: SavedState): void {
    const tmp = `${this.path}.tmp`;
    writeFileSync(tmp, JSON.stringify({ saved_at: new Date().toISOString(), ...state }, null, 2), { mode: 0o600 });
    renameSync(tmp, this.path);
  }
}

import type { Db, OpsDatabase } from "@ops/db";
import type { Logger } from "pino";
import { type DispatchSettings, readDispatchSettings, SETTINGS_CHANNEL } from "./settings.ts";

/**
 * The dispatch settings as this API instance last read them, for the hot paths
 * (heartbeat answers, the dispatcher's tick). Reading them per request cost a
 * statement per heartbeat; with a fleet of thousands that was most of the idle
 * database load. Any instance's `PUT /settings/:key` NOTIFYs every instance,
 * which drops its copy and reads it again (one statement): a change is in force
 * everywhere within the NOTIFY's round trip. When the LISTEN connection comes
 * back after an outage, notifications sent meanwhile are lost, so the copy is
 * dropped there too. Without LISTEN at all, every read goes to the database.
 *
 * Correctness never rests on this copy: the claim statement reads the gate
 * (dispatch_enabled, caps) itself. The copy only decides what the API may skip
 * asking (a tick while dispatch is off) and what it answers (worker_stale_seconds).
 */
export class SettingsCache {
  private current: DispatchSettings | undefined;
  private loading: Promise<DispatchSettings> | undefined;
  private version = 0;
  private listening = false;
  private unlisten: (() => Promise<void>) | undefined;
  private readonly changeListeners = new Set<() => void>();

  constructor(
    private readonly db: Db,
    private readonly database: OpsDatabase | undefined,
    private readonly log: Logger,
  ) {}

  async start(): Promise<void> {
    if (!this.database) return;
    try {
      this.unlisten = await this.database.listen(SETTINGS_CHANNEL, () => this.invalidate(), () => this.invalidate());
      this.listening = true;
    } catch (err) {
      this.log.warn({ err }, "LISTEN unavailable; settings are read from the database on every use");
    }
  }

  async stop(): Promise<void> {
    this.listening = false;
    await this.unlisten?.().catch(() => {});
  }

  /** The settings in force; a database read only after a change (or without LISTEN). */
  async get(): Promise<DispatchSettings> {
    if (!this.listening) return readDispatchSettings(this.db);
    if (this.current) return this.current;
    if (this.loading) return this.loading;
    const version = this.version;
    const load = readDispatchSettings(this.db).then(
      (settings) => {
        if (this.loading === load) this.loading = undefined;
        // A change NOTIFYed while this read ran may not be in it: keep it only if none came.
        if (version === this.version) this.current = settings;
        return settings;
      },
      (err: unknown) => {
        if (this.loading === load) this.loading = undefined;
        throw err;
      },
    );
    this.loading = load;
    return load;
  }

  /** The cached copy, if any, without a read. */
  peek(): DispatchSettings | undefined {
    return this.current;
  }

  /** Drops the copy (a setting changed on some instance) and tells the dispatcher. */
  invalidate(): void {
    this.version++;
    this.current = undefined;
    this.loading = undefined;
    for (const fn of this.changeListeners) fn();
  }

  onChange(fn: () => void): () => void {
    this.changeListeners.add(fn);
    return () => this.changeListeners.delete(fn);
  }
}

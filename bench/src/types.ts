import type { Stats } from "./util.ts";

/** Sizes and windows; `--quick` shrinks every one of them. */
export interface Sizes {
  quick: boolean;
  drainTasks: number;
  drainWorkers: number[];
  warmupMs: number;
  measureMs: number;
  pickupTasks: number;
  pickupTasksPgBoss: number;
  pickupWorkers: number;
  pickupGapMs: number;
  idleMs: number;
  historyTasks: number;
  scaleWorkers: number;
  scaleHeartbeatSeconds: number;
  scaleSamples: number;
  recoveryTasks: number;
  recoveryStaleSeconds: number;
  recoveryWatchdogMs: number;
  /** Simulated launchers per `fleet` run (one API process), each run beside as many pg-boss workers. */
  fleetLaunchers: number[];
  /** Idle window of the fleet (transactions/s over it). */
  fleetIdleMs: number;
  /** Tasks queued one at a time while the fleet is parked. */
  fleetTasks: number;
}

export const FULL: Sizes = {
  quick: false,
  drainTasks: 20_000,
  drainWorkers: [1, 4, 16],
  warmupMs: 2000,
  measureMs: 6000,
  pickupTasks: 1000,
  pickupTasksPgBoss: 60,
  pickupWorkers: 4,
  pickupGapMs: 5,
  idleMs: 10_000,
  historyTasks: 1_000_000,
  scaleWorkers: 1000,
  scaleHeartbeatSeconds: 15,
  scaleSamples: 400,
  recoveryTasks: 8,
  recoveryStaleSeconds: 10,
  recoveryWatchdogMs: 1000,
  // 4 first: the same pickup and idle cost with a handful of launchers, under the same machine load, as the control.
  fleetLaunchers: [4, 1000, 5000],
  fleetIdleMs: 30_000,
  fleetTasks: 200,
};

export const QUICK: Sizes = {
  quick: true,
  drainTasks: 2000,
  drainWorkers: [4],
  warmupMs: 300,
  measureMs: 1200,
  pickupTasks: 60,
  pickupTasksPgBoss: 5,
  pickupWorkers: 4,
  pickupGapMs: 2,
  idleMs: 2000,
  historyTasks: 20_000,
  scaleWorkers: 100,
  scaleHeartbeatSeconds: 5,
  scaleSamples: 50,
  recoveryTasks: 3,
  recoveryStaleSeconds: 10,
  recoveryWatchdogMs: 500,
  fleetLaunchers: [200],
  // 5 s: the shortest window idleXactRate lets settle first (under 5 s it skips the 11 s
  // settle and the registration's own transactions land in the window: 40/s measured at 200).
  fleetIdleMs: 5000,
  fleetTasks: 40,
};

export interface DrainRow {
  system: string;
  variant: string;
  workers: number;
  tasks_per_s: number;
  completed_in_window: number;
  claim_ms: Stats | null;
  duplicates: number;
  errors: number;
}

export interface PickupRow {
  system: string;
  workers: number;
  jobs: number;
  picked: number;
  latency_ms: Stats;
  enqueue_call_ms?: Stats;
  idle_xact_per_s: number;
  duplicates: number;
  note?: string;
}

import { readFileSync } from "node:fs";
import { sleep } from "./sleep.ts";

/**
 * Process-group mechanics. A launch is identified by its wrapper's pid, which
 * is also its process-group id; the kernel start time guards against a reused
 * pid being mistaken for our agent after a launcher restart.
 */

/** Kernel start time of a process (clock ticks since boot), or undefined off Linux or when gone. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may contain spaces; fields resume after its ')'.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    return fields[19];
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat.slice(stat.lastIndexOf(")") + 2).startsWith("Z");
  } catch {
    return false;
  }
}

/** Whether the process is running and is the one we started (same start time, when known). */
export function isAlive(pid: number, startTime?: string): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "EPERM") return false;
  }
  if (isZombie(pid)) return false;
  if (startTime !== undefined) {
    const now = processStartTime(pid);
    if (now !== undefined && now !== startTime) return false;
  }
  return true;
}

/** Whether any process of the group is left. */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): boolean {
  try {
    process.kill(-pgid, signal);
    return true;
  } catch {
    return false;
  }
}

/**
 * Stops a run: SIGTERM to the whole group, then SIGKILL when it is still there
 * after the grace period. Answers the last signal sent.
 */
export async function stopGroup(pgid: number, graceMs: number): Promise<NodeJS.Signals | undefined> {
  if (!signalGroup(pgid, "SIGTERM")) return undefined;
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline) {
    await sleep(100);
    // The wrapper outlives the agent by a moment to record its exit; the group is gone after that.
    if (!groupAlive(pgid)) return "SIGTERM";
  }
  signalGroup(pgid, "SIGKILL");
  // Killed processes linger until reaped; report once they are gone (or after a short wait).
  for (let i = 0; i < 20 && groupAlive(pgid); i++) await sleep(100);
  return "SIGKILL";
}

import { CANCELLABLE_STATUSES, isStatusIn, type TTaskStatus } from "@ops/contract";

/** A task a launcher is about to take or holds changes by the second: queued, dispatching, doing. */
export const LIVE_REFRESH_MS = 1_500;
/** Otherwise people and agents add entries now and then. */
export const IDLE_REFRESH_MS = 10_000;

export const refreshFor = (status: TTaskStatus | undefined) =>
  status !== undefined && isStatusIn(CANCELLABLE_STATUSES, status) ? LIVE_REFRESH_MS : IDLE_REFRESH_MS;

/**
 * The status "Nuevo estado" offers first: the next step a person takes from
 * here (never `done` for a task not yet started). Launcher-only statuses are
 * not offered at all, and queued is what Dispatch does.
 */
export function suggestedStatus(status: TTaskStatus): TTaskStatus {
  switch (status) {
    case "backlog":
      return "next";
    case "next":
      return "review";
    case "waiting":
      return "next";
    case "review":
      return "done";
    case "done":
      return "review";
    default:
      return "waiting";
  }
}

/** What a person may pick in "Nuevo estado" (the API refuses the launcher's statuses; queued is Dispatch). */
export const PICKABLE_STATUSES: readonly TTaskStatus[] = ["backlog", "next", "review", "waiting", "done"];

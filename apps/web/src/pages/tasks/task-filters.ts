import { TASK_STATUSES, type TTaskStatus } from "@ops/contract";
import { setSearch } from "../../router.tsx";

export interface TaskFilterValues {
  status: TTaskStatus | undefined;
  agent: number | undefined;
  blocked: boolean | undefined;
  q: string;
  view: "board" | "list";
  page: number;
}

/** Filters live in the URL so a filtered view can be bookmarked or shared. */
export function readFilters(search: URLSearchParams): TaskFilterValues {
  const status = search.get("status");
  const agent = Number(search.get("agent"));
  const blocked = search.get("blocked");
  return {
    status: (TASK_STATUSES as readonly string[]).includes(status ?? "") ? (status as TTaskStatus) : undefined,
    agent: Number.isInteger(agent) && agent > 0 ? agent : undefined,
    blocked: blocked === "true" ? true : blocked === "false" ? false : undefined,
    q: search.get("q") ?? "",
    view: search.get("view") === "list" ? "list" : "board",
    page: Math.max(0, Number(search.get("page")) || 0),
  };
}

export function writeFilters(f: TaskFilterValues) {
  setSearch({
    status: f.status,
    agent: f.agent ? String(f.agent) : undefined,
    blocked: f.blocked === undefined ? undefined : String(f.blocked),
    q: f.q || undefined,
    view: f.view === "list" ? "list" : undefined,
    page: f.page ? String(f.page) : undefined,
  });
}

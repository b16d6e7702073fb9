import type { TTask } from "@ops/contract";
import { useQuery } from "@tanstack/react-query";
import { ErrorBox, Empty, Loading } from "../../components/States.tsx";
import { useT } from "../../i18n/index.tsx";
import { PATHS } from "../../paths.ts";
import { Link, useLocation } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { TaskBoard, TaskTable } from "./TaskViews.tsx";
import { TaskFilters } from "./TaskFilters.tsx";
import { readFilters, type TaskFilterValues, writeFilters } from "./task-filters.ts";

const PAGE = 100;

const isUnfiltered = (f: TaskFilterValues) => !f.status && !f.agent && f.blocked === undefined && !f.q.trim() && f.page === 0;

export function TasksPage() {
  const t = useT();
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  const { search } = useLocation();
  const filters = readFilters(search);
  const tasks = useQuery(
    trpc.tasks.list.queryOptions(
      {
        workspace_id: workspaceId,
        ...(filters.status ? { status: filters.status } : {}),
        ...(filters.agent ? { agent_id: filters.agent } : {}),
        ...(filters.blocked !== undefined ? { blocked: filters.blocked } : {}),
        ...(filters.q.trim() ? { search: filters.q.trim() } : {}),
        limit: PAGE,
        offset: filters.page * PAGE,
      },
      { refetchInterval: 10_000, placeholderData: (previous) => previous },
    ),
  );
  return (
    <>
      <div className="page-head">
        <h1>{t("tasks.title")}</h1>
        <Link to={PATHS.nuevaTarea} className="btn btn-primary">
          {t("tasks.new")}
        </Link>
      </div>
      <TaskFilters value={filters} onChange={writeFilters} />
      {tasks.isPending ? (
        <Loading />
      ) : !tasks.data ? (
        <ErrorBox error={tasks.error} onRetry={() => void tasks.refetch()} />
      ) : tasks.data.tasks.length === 0 ? (
        isUnfiltered(filters) ? (
          <div className="card empty-board">
            <p>{t("tasks.emptyBoard")}</p>
            <Link to={PATHS.nuevaTarea} className="btn btn-primary">
              {t("tasks.new")}
            </Link>
          </div>
        ) : (
          <Empty>{t("tasks.empty")}</Empty>
        )
      ) : (
        <TaskResults tasks={tasks.data.tasks} total={tasks.data.total} filters={filters} />
      )}
    </>
  );
}

function TaskResults({ tasks, total, filters }: { tasks: TTask[]; total: number; filters: TaskFilterValues }) {
  const t = useT();
  const from = filters.page * PAGE;
  return (
    <>
      {filters.view === "board" ? <TaskBoard tasks={tasks} only={filters.status} /> : <TaskTable tasks={tasks} />}
      <div className="row pager">
        <span className="muted">{t("common.showing", { from: from + 1, to: from + tasks.length, total })}</span>
        <button type="button" className="btn" disabled={filters.page === 0} onClick={() => writeFilters({ ...filters, page: filters.page - 1 })}>
          {t("common.prev")}
        </button>
        <button
          type="button"
          className="btn"
          disabled={from + tasks.length >= total}
          onClick={() => writeFilters({ ...filters, page: filters.page + 1 })}
        >
          {t("common.next")}
        </button>
      </div>
    </>
  );
}

import { type TWorker, WORKERS_PAGE } from "@ops/contract";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { useState } from "react";
import { FreshBadge } from "../../components/Badges.tsx";
import { Section } from "../../components/Section.tsx";
import { Empty, ErrorBox, Loading } from "../../components/States.tsx";
import { formatAge, formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { Link, setSearch, useLocation } from "../../router.tsx";
import { taskPath } from "../../paths.ts";
import { useTRPC } from "../../trpc.ts";
import { REFRESH_MS } from "./refresh.ts";
import { RuntimeStates } from "./RuntimeStates.tsx";

/** The table's filters and page, kept in the URL like the task list's (a filtered view can be shared). */
export interface WorkerFilterValues {
  staleOnly: boolean;
  agent: string | undefined;
  /** The page starts after this worker id (the API's cursor); undefined: the first page. */
  after: string | undefined;
}

export function readWorkerFilters(search: URLSearchParams): WorkerFilterValues {
  return {
    staleOnly: search.get("workers_stale") === "1",
    agent: search.get("workers_agent") || undefined,
    after: search.get("workers_after") || undefined,
  };
}

function writeWorkerFilters(f: WorkerFilterValues) {
  // Other parameters of the page stay as they are.
  const current = Object.fromEntries(new URLSearchParams(window.location.search));
  setSearch({ ...current, workers_stale: f.staleOnly ? "1" : undefined, workers_agent: f.agent, workers_after: f.after });
}

/**
 * Operacion → Automatizaciones → Workers: a page of workers at a time (a fleet
 * can be thousands), only the stale ones or those running an agent, with the
 * exact number that match. `agents` are the slugs to filter by.
 */
export function WorkersTable({ agents }: { agents: readonly string[] }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const filters = readWorkerFilters(useLocation().search);
  // The cursors of the pages before this one, for "previous" (a reload starts the trail again).
  const [trail, setTrail] = useState<(string | undefined)[]>([]);
  const page = useQuery(
    trpc.dispatch.workers.queryOptions(
      {
        limit: WORKERS_PAGE.default,
        ...(filters.after ? { cursor: filters.after } : {}),
        ...(filters.staleOnly ? { stale_only: true } : {}),
        ...(filters.agent ? { agent: filters.agent } : {}),
      },
      { refetchInterval: REFRESH_MS, placeholderData: keepPreviousData },
    ),
  );
  const refilter = (patch: Partial<WorkerFilterValues>) => {
    setTrail([]);
    writeWorkerFilters({ ...filters, ...patch, after: undefined });
  };
  const slugs = [...new Set([...agents, ...(filters.agent ? [filters.agent] : [])])].sort();
  const shown = page.data?.workers.length ?? 0;
  return (
    <Section id="workers" title={t("workers.title")}>
      <form className="filters" aria-label={t("workers.filters")} onSubmit={(e) => e.preventDefault()}>
        <label className="check">
          <input type="checkbox" checked={filters.staleOnly} onChange={(e) => refilter({ staleOnly: e.target.checked })} />
          <span>{t("workers.staleOnly")}</span>
        </label>
        <label className="field">
          <span>{t("workers.agent")}</span>
          <select value={filters.agent ?? ""} onChange={(e) => refilter({ agent: e.target.value || undefined })}>
            <option value="">{t("common.all")}</option>
            {slugs.map((slug) => (
              <option key={slug} value={slug}>
                {slug}
              </option>
            ))}
          </select>
        </label>
      </form>
      {!page.data ? (
        page.isPending ? <Loading /> : <ErrorBox error={page.error} onRetry={() => void page.refetch()} />
      ) : (
        <>
          {page.error ? <ErrorBox error={page.error} onRetry={() => void page.refetch()} /> : null}
          {shown === 0 ? (
            <Empty>{filters.staleOnly || filters.agent ? t("workers.noneMatch") : t("workers.empty")}</Empty>
          ) : (
            <WorkerRows workers={page.data.workers} />
          )}
          <div className="row pager">
            <span className="muted" role="status">
              {t("workers.showing", { shown, total: page.data.total })}
            </span>
            <button
              type="button"
              className="btn"
              disabled={!filters.after}
              onClick={() => {
                const previous = trail[trail.length - 1];
                setTrail(trail.slice(0, -1));
                writeWorkerFilters({ ...filters, after: previous });
              }}
            >
              {t("common.prev")}
            </button>
            <button
              type="button"
              className="btn"
              disabled={!page.data.next_cursor}
              onClick={() => {
                setTrail([...trail, filters.after]);
                writeWorkerFilters({ ...filters, after: page.data.next_cursor ?? undefined });
              }}
            >
              {t("common.next")}
            </button>
          </div>
        </>
      )}
    </Section>
  );
}

function WorkerRows({ workers }: { workers: TWorker[] }) {
  const { t, lang } = useI18n();
  return (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("workers.id")}</th>
                <th scope="col">{t("workers.host")}</th>
                <th scope="col">{t("workers.runtimes")}</th>
                <th scope="col">{t("workers.models")}</th>
                <th scope="col">{t("workers.running")}</th>
                <th scope="col">{t("workers.slots")}</th>
                <th scope="col">{t("workers.lastSeen")}</th>
                <th scope="col">{t("workers.state")}</th>
              </tr>
            </thead>
            <tbody>
              {workers.map((w) => (
                <tr key={w.worker_id} className={w.fresh ? undefined : "row-stale"}>
                  <td className="mono">{w.worker_id}</td>
                  <td>{w.hostname}</td>
                  <td>
                    <RuntimeStates worker={w} />
                  </td>
                  <td className="mono">{w.models.join(", ") || t("common.any")}</td>
                  <td>
                    {w.running_task_ids.length === 0
                      ? t("common.none")
                      : w.running_task_ids.map((id, i) => (
                          <span key={id}>
                            {i > 0 ? ", " : ""}
                            <Link to={taskPath(id)}>#{id}</Link>
                          </span>
                        ))}
                  </td>
                  <td>{w.free_slots}</td>
                  <td title={formatDateTime(w.last_seen_at, lang)}>{t("common.ago", { age: formatAge(w.seconds_since_seen) })}</td>
                  <td>
                    <FreshBadge fresh={w.fresh} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
  );
}

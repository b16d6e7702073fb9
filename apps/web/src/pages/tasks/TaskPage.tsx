import { type TTask, type TTaskStatus, isStatusIn } from "@ops/contract";
import { useMutation, useQuery } from "@tanstack/react-query";
import { BlockedBadge, PriorityBadge, SensitiveBadge, StatusBadge } from "../../components/Badges.tsx";
import { ExplainPanel } from "../../components/ExplainPanel.tsx";
import { BlockedReason } from "../../components/Reason.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, Loading } from "../../components/States.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { executionLabel } from "../../i18n/words.ts";
import { PATHS } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useTRPC } from "../../trpc.ts";
import { LIVE_REFRESH_MS, refreshFor } from "./live.ts";
import { TaskActions } from "./TaskActions.tsx";
import { TaskEditForm } from "./TaskEditForm.tsx";
import { BlockerHistory, CommentsSection, ContextSection, TimeLogsSection } from "./TaskEntries.tsx";
import { useTaskInvalidation } from "./useTaskInvalidation.ts";

/** Where the dispatch explanation is shown: a task not yet dispatched, or queued and waiting for a launcher. */
const EXPLAINED_STATUSES: readonly TTaskStatus[] = ["backlog", "next", "queued", "waiting"];

export function TaskPage({ id }: { id: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  // Queued, dispatching and doing change by the second (a short run passes through doing in moments).
  const task = useQuery(trpc.tasks.get.queryOptions({ id }, { refetchInterval: (q) => refreshFor(q.state.data?.status) }));
  if (task.isPending) return <Loading />;
  if (!task.data) {
    return (
      <>
        <Link to={PATHS.tareas}>{t("task.back")}</Link>
        <ErrorBox error={task.error} onRetry={() => void task.refetch()} />
      </>
    );
  }
  const data = task.data;
  const refresh = refreshFor(data.status);
  return (
    <>
      <div className="page-head">
        <div>
          <Link to={PATHS.tareas}>{t("task.back")}</Link>
          <h1>
            #{data.id} {data.title}
          </h1>
          <p className="task-meta">
            <StatusBadge status={data.status} />
            <PriorityBadge priority={data.priority} />
            {data.blocked ? <BlockedBadge /> : null}
            {data.sensitive ? <SensitiveBadge /> : null}
            {data.archived ? <span className="badge">{t("task.archived")}</span> : null}
            {refresh === LIVE_REFRESH_MS ? (
              <span className="muted small live" data-testid="live">
                {t("task.live", { s: LIVE_REFRESH_MS / 1000 })}
              </span>
            ) : null}
          </p>
        </div>
      </div>
      {data.blocked ? <BlockedBanner task={data} /> : null}
      <div className="grid-2">
        <div className="stack">
          <TaskActions task={data} />
          {data.execution === "interactive" && isStatusIn(EXPLAINED_STATUSES, data.status) ? (
            <Section id="explain" title={t("task.explain")}>
              <ExplainPanel taskId={data.id} refetchMs={refresh} />
            </Section>
          ) : null}
          <Section id="description" title={t("task.description")}>
            {data.description ? <p className="prewrap">{data.description}</p> : <p className="muted">{t("task.noDescription")}</p>}
          </Section>
        </div>
        <div className="stack">
          <TaskDetails task={data} />
          <TaskEditForm task={data} />
          <DispatchOutput task={data} />
          <BlockerHistory task={data} refetchMs={refresh} />
        </div>
      </div>
      <ContextSection taskId={data.id} refetchMs={refresh} />
      <CommentsSection taskId={data.id} refetchMs={refresh} />
      <TimeLogsSection taskId={data.id} refetchMs={refresh} />
    </>
  );
}

/** The current block, said once, where the eye lands, with the way out. */
function BlockedBanner({ task }: { task: TTask }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const invalidate = useTaskInvalidation();
  const unblock = useMutation(trpc.tasks.update.mutationOptions({ onSettled: invalidate }));
  return (
    <div className="error-box blocked-banner" role="note" data-testid="blocked-banner">
      <p>
        <strong>{t("tasks.blockedBadge")}:</strong> <BlockedReason reason={task.blocked_reason} />
      </p>
      <button type="button" className="btn btn-small" onClick={() => unblock.mutate({ id: task.id, blocked: false, blocked_reason: null })} disabled={unblock.isPending}>
        {t("task.unblock")}
      </button>
      {unblock.error ? <ErrorBox error={unblock.error} /> : null}
    </div>
  );
}

function TaskDetails({ task }: { task: TTask }) {
  const { t, lang } = useI18n();
  const rows: Array<[string, string]> = [
    [t("task.execution"), executionLabel(t, task.execution)],
    [t("task.agent"), task.agent_slug ?? t("tasks.noAgent")],
    [t("task.model"), task.model ?? t("common.none")],
    [t("task.priority"), String(task.priority)],
    [
      t("task.sensitive"),
      task.sensitive
        ? `${t("common.yes")} — ${task.approved_at ? t("task.approved", { by: task.approved_by ?? "?", when: formatDateTime(task.approved_at, lang) }) : t("task.notApproved")}`
        : t("common.no"),
    ],
    [t("task.workingDir"), task.working_dir ?? t("common.none")],
    [t("task.claimedBy"), task.claimed_by ? `${task.claimed_by} (${formatDateTime(task.claimed_at, lang)})` : t("common.none")],
    [t("task.attempt"), String(task.claim_attempt)],
    [t("task.failures"), String(task.failure_count)],
  ];
  return (
    <Section id="details" title={t("task.details")}>
      <dl className="details">
        {rows.map(([label, value]) => (
          <div key={label}>
            <dt>{label}</dt>
            <dd>{value}</dd>
          </div>
        ))}
      </dl>
    </Section>
  );
}

function DispatchOutput({ task }: { task: TTask }) {
  const { t } = useI18n();
  return (
    <Section id="dispatch-output" title={t("task.dispatchOutput")}>
      {task.dispatch_output ? (
        // The launcher's record as it wrote it: data, not words of the app.
        <pre className="code" data-raw>
          {JSON.stringify(task.dispatch_output, null, 2)}
        </pre>
      ) : <p className="muted">{t("task.dispatchOutputEmpty")}</p>}
    </Section>
  );
}

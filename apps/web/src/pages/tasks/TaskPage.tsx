import { isStatusIn, type TTask, type TTaskStatus } from "@ops/contract";
import { useQuery } from "@tanstack/react-query";
import { BlockedBadge, SensitiveBadge, StatusBadge } from "../../components/Badges.tsx";
import { ExplainPanel } from "../../components/ExplainPanel.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, Loading } from "../../components/States.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { PATHS } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useTRPC } from "../../trpc.ts";
import { TaskActions } from "./TaskActions.tsx";
import { BlockerHistory, CommentsSection, ContextSection, TimeLogsSection } from "./TaskEntries.tsx";
import { TaskEditForm } from "./TaskEditForm.tsx";

/** Where the dispatch explanation is shown: a task not yet dispatched, or queued and waiting for a launcher. */
const EXPLAINED_STATUSES: readonly TTaskStatus[] = ["backlog", "next", "queued", "waiting"];

export function TaskPage({ id }: { id: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const task = useQuery(trpc.tasks.get.queryOptions({ id }, { refetchInterval: 10_000 }));
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
            {data.blocked ? <BlockedBadge /> : null}
            {data.sensitive ? <SensitiveBadge /> : null}
            {data.archived ? <span className="badge">{t("task.archived")}</span> : null}
          </p>
        </div>
      </div>
      {data.blocked ? (
        <p className="error-box" role="note">
          {t("task.blockedBy", { reason: data.blocked_reason ?? t("common.none") })}
        </p>
      ) : null}
      <div className="grid-2">
        <div className="stack">
          <Section id="description" title={t("task.description")}>
            {data.description ? <p className="prewrap">{data.description}</p> : <p className="muted">{t("task.noDescription")}</p>}
          </Section>
          <TaskDetails task={data} />
          <TaskEditForm task={data} />
        </div>
        <div className="stack">
          <TaskActions task={data} />
          {data.execution === "interactive" && isStatusIn(EXPLAINED_STATUSES, data.status) ? (
            <Section id="explain" title={t("task.explain")}>
              <ExplainPanel taskId={data.id} />
            </Section>
          ) : null}
          <DispatchOutput task={data} />
          <BlockerHistory task={data} />
        </div>
      </div>
      <ContextSection taskId={data.id} />
      <CommentsSection taskId={data.id} />
      <TimeLogsSection taskId={data.id} />
    </>
  );
}

function TaskDetails({ task }: { task: TTask }) {
  const { t, lang } = useI18n();
  const rows: Array<[string, string]> = [
    [t("task.execution"), task.execution],
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
        <pre className="code">
          {JSON.stringify(task.dispatch_output, null, 2)}
        </pre>
      ) : (
        <p className="muted">{t("task.dispatchOutputEmpty")}</p>
      )}
    </Section>
  );
}

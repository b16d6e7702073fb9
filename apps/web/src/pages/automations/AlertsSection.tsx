import type { TAlert } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { AlertMessage } from "../../components/Reason.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { formatAge, formatDateTime, secondsSince } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { alertKindLabel } from "../../i18n/words.ts";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { REFRESH_MS } from "./refresh.ts";

/** Open system alerts with their task and occurrence count; admins resolve them. */
export function AlertsSection() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  const alerts = useQuery(trpc.alerts.list.queryOptions({ workspace_id: workspaceId, status: "open" }, { refetchInterval: REFRESH_MS }));
  return (
    <Section id="alerts" title={t("alerts.title")}>
      <QueryView query={alerts} isEmpty={(list) => list.length === 0} empty={t("alerts.empty")}>
        {(list) => <AlertsTable alerts={list} />}
      </QueryView>
    </Section>
  );
}

function AlertsTable({ alerts }: { alerts: TAlert[] }) {
  const { t, lang } = useI18n();
  const { canAct } = useSession();
  return (
    <div className="table-wrap">
      <table className="cards-narrow">
        <thead>
          <tr>
            <th scope="col">{t("alerts.kind")}</th>
            <th scope="col">{t("alerts.task")}</th>
            <th scope="col">{t("alerts.message")}</th>
            <th scope="col">{t("alerts.occurrences")}</th>
            <th scope="col">{t("alerts.lastSeen")}</th>
            {canAct ? <th scope="col"><span className="sr-only">{t("task.actions")}</span></th> : null}
          </tr>
        </thead>
        <tbody>
          {alerts.map((a) => (
            <tr key={a.id} data-alert-id={a.id} data-kind={a.kind}>
              <td data-label={t("alerts.kind")}>
                <span className="badge badge-bad" title={a.kind}>
                  {alertKindLabel(t, a.kind)}
                </span>
              </td>
              <td data-label={t("alerts.task")}>
                {a.task_id ? (
                  <Link to={taskPath(a.task_id)}>
                    #{a.task_id} {a.task_title ?? ""}
                  </Link>
                ) : (
                  t("common.none")
                )}
              </td>
              <td data-label={t("alerts.message")}>
                <AlertMessage message={a.message} />
              </td>
              <td className="num" data-label={t("alerts.occurrences")}>
                {a.occurrences}
              </td>
              <td data-label={t("alerts.lastSeen")} title={formatDateTime(a.last_seen_at, lang)}>
                {t("common.ago", { age: formatAge(secondsSince(a.last_seen_at) ?? 0) })}
              </td>
              {canAct ? (
                <td className="cell-action">
                  <ResolveButton alert={a} />
                </td>
              ) : null}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function ResolveButton({ alert }: { alert: TAlert }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const resolve = useMutation(
    trpc.alerts.resolve.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries(trpc.alerts.pathFilter());
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
      },
    }),
  );
  return (
    <>
      <button
        type="button"
        className="btn"
        onClick={() => resolve.mutate({ id: alert.id })}
        disabled={resolve.isPending}
        aria-label={`${t("alerts.resolve")} #${alert.id}`}
      >
        {resolve.isPending ? t("alerts.resolving") : t("alerts.resolve")}
      </button>
      {resolve.error ? <ErrorBox error={resolve.error} /> : null}
    </>
  );
}

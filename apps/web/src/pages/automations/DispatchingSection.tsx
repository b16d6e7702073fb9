import type { TDispatchingRow } from "@ops/contract";
import { StatusBadge } from "../../components/Badges.tsx";
import { Section } from "../../components/Section.tsx";
import { Empty } from "../../components/States.tsx";
import { formatAge } from "../../format.ts";
import { useT } from "../../i18n/index.tsx";
import { staleReasonLabel } from "../../i18n/words.ts";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";

/** Tasks in dispatching (and doing) with their age and worker; stale ones stand out. */
export function DispatchingSection({ rows }: { rows: TDispatchingRow[] }) {
  const t = useT();
  return (
    <Section id="dispatching" title={t("dispatching.title")}>
      {rows.length === 0 ? <Empty>{t("dispatching.empty")}</Empty> : <DispatchingTable rows={rows} />}
    </Section>
  );
}

export function DispatchingTable({ rows }: { rows: TDispatchingRow[] }) {
  const t = useT();
  return (
    <div className="table-wrap">
      <table className="cards-narrow">
        <thead>
          <tr>
            <th scope="col">{t("dispatching.task")}</th>
            <th scope="col">{t("dispatching.status")}</th>
            <th scope="col">{t("dispatching.agent")}</th>
            <th scope="col">{t("dispatching.worker")}</th>
            <th scope="col">{t("dispatching.age")}</th>
          </tr>
        </thead>
        <tbody>
          {rows.map((r) => (
            <tr key={r.task_id} className={r.stale ? "row-stale" : undefined} data-stale={r.stale || undefined}>
              <td data-label={t("dispatching.task")}>
                <Link to={taskPath(r.task_id)}>
                  #{r.task_id} {r.title}
                </Link>
              </td>
              <td data-label={t("dispatching.status")}>
                <StatusBadge status={r.status} />
                {r.stale ? (
                  <span className="badge badge-bad" title={r.stale_reason ? staleReasonLabel(t, r.stale_reason) : undefined}>
                    {t("dispatching.staleBadge")}
                  </span>
                ) : null}
              </td>
              <td data-label={t("dispatching.agent")}>{r.agent_slug ?? t("common.none")}</td>
              <td className="mono" data-label={t("dispatching.worker")}>
                {r.claimed_by ?? t("common.none")}
              </td>
              <td data-label={t("dispatching.age")}>{formatAge(r.age_seconds)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

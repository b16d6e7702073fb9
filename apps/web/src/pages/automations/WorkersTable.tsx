import type { TWorker } from "@ops/contract";
import { FreshBadge } from "../../components/Badges.tsx";
import { Section } from "../../components/Section.tsx";
import { Empty } from "../../components/States.tsx";
import { formatAge, formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { Link } from "../../router.tsx";
import { taskPath } from "../../paths.ts";

export function WorkersTable({ workers }: { workers: TWorker[] }) {
  const { t, lang } = useI18n();
  return (
    <Section id="workers" title={t("workers.title")}>
      {workers.length === 0 ? (
        <Empty>{t("workers.empty")}</Empty>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">{t("workers.id")}</th>
                <th scope="col">{t("workers.host")}</th>
                <th scope="col">{t("workers.slugs")}</th>
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
                  <td>{w.agent_slugs.join(", ") || t("common.none")}</td>
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
      )}
    </Section>
  );
}

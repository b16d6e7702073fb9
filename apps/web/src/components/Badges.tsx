import type { TTaskStatus } from "@ops/contract";
import { useT } from "../i18n/index.tsx";
import { statusLabel } from "../i18n/words.ts";

/** A status in words; the API's value stays in `data-status` (and the tooltip) for those who know it. */
export function StatusBadge({ status }: { status: TTaskStatus }) {
  const t = useT();
  return (
    <span className={`badge status-${status}`} data-status={status} title={status}>
      {statusLabel(t, status)}
    </span>
  );
}

export function BlockedBadge() {
  return <span className="badge badge-blocked">{useT()("tasks.blockedBadge")}</span>;
}

export function SensitiveBadge() {
  return <span className="badge badge-sensitive">{useT()("tasks.sensitiveBadge")}</span>;
}

export function FreshBadge({ fresh }: { fresh: boolean }) {
  const t = useT();
  return <span className={`badge ${fresh ? "badge-ok" : "badge-warn"}`}>{fresh ? t("worker.fresh") : t("worker.stale")}</span>;
}

export function PriorityBadge({ priority }: { priority: number }) {
  const t = useT();
  return (
    <span className={priority > 0 ? "badge badge-priority-high" : priority < 0 ? "badge badge-priority-low" : "badge"}>
      {t("tasks.priority", { p: priority })}
    </span>
  );
}

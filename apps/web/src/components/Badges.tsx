import type { TTaskStatus } from "@ops/contract";
import { useT } from "../i18n/index.tsx";

export function StatusBadge({ status }: { status: TTaskStatus }) {
  return <span className={`badge status-${status}`}>{status}</span>;
}

export function BlockedBadge() {
  return <span className="badge badge-blocked">{useT()("tasks.blockedBadge")}</span>;
}

export function SensitiveBadge() {
  return <span className="badge badge-sensitive">{useT()("tasks.sensitiveBadge")}</span>;
}

export function FreshBadge({ fresh }: { fresh: boolean }) {
  const t = useT();
  return <span className={`badge ${fresh ? "badge-ok" : "badge-warn"}`}>{fresh ? t("health.fresh") : t("health.stale")}</span>;
}

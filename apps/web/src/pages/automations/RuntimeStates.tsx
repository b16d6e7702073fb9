import type { TWorker } from "@ops/contract";
import { type MessageKey, useI18n } from "../../i18n/index.tsx";

const STATE_BADGE: Record<TWorker["runtimes"][number]["state"], string> = {
  usable: "badge-ok",
  missing: "badge-bad",
  not_authenticated: "badge-warn",
  invalid_command: "badge-bad",
};

/** Every runtime a worker supports: usable, or why not in the launcher's words, with its CLI version. */
export function RuntimeStates({ worker }: { worker: TWorker }) {
  const { t } = useI18n();
  if (worker.runtimes.length === 0) return <>{worker.agent_slugs.join(", ") || t("common.none")}</>;
  return (
    <ul className="plain-list runtime-states">
      {worker.runtimes.map((r) => (
        <li key={r.slug} title={r.version ?? undefined}>
          <strong>{r.slug}</strong> <span className={`badge ${STATE_BADGE[r.state]}`}>{t(`runtime.${r.state}` as MessageKey)}</span>
          {r.reason ? <span className="muted small"> {r.reason}</span> : null}
        </li>
      ))}
    </ul>
  );
}

import type { THealth } from "@ops/contract";
import { DispatchSwitch } from "../../components/DispatchSwitch.tsx";
import { Section } from "../../components/Section.tsx";
import { useT } from "../../i18n/index.tsx";
import { problemText } from "../../i18n/render.ts";

function Stat({ label, value, warn }: { label: string; value: number | string; warn?: boolean }) {
  return (
    <div className={warn ? "stat stat-warn" : "stat"}>
      <dt>{label}</dt>
      <dd>{value}</dd>
    </div>
  );
}

/** Health at a glance: ok, every problem in words, dispatch on/off, workers, queue. */
export function HealthSummary({ health }: { health: THealth }) {
  const t = useT();
  const { worker_summary: ws, queue } = health;
  return (
    <Section id="health" title={t("health.title")}>
      <div className="health-line">
        <p className={health.ok ? "pill pill-ok" : "pill pill-bad"} role="status" data-testid="health-ok">
          {health.ok ? t("health.ok") : t("health.notOk")}
        </p>
        <p className={health.dispatch_enabled ? "pill pill-on" : "pill pill-off"} data-testid="dispatch-state">
          {t("health.dispatch")}: {health.dispatch_enabled ? t("health.on") : t("health.off")}
        </p>
        <DispatchSwitch health={health} />
      </div>
      {health.problems.length > 0 ? (
        <div className="problems">
          <h3>{t("health.problems")}</h3>
          <ul>
            {health.problems.map((p) => (
              <li key={p.code} data-code={p.code}>
                {problemText(t, p, "problem")}
              </li>
            ))}
          </ul>
        </div>
      ) : null}
      <div className="stats-groups">
        <dl className="stats" aria-label={t("health.workers")}>
          <Stat label={t("health.workersFresh")} value={ws.fresh} warn={health.dispatch_enabled && ws.fresh === 0} />
          <Stat label={t("health.workersStale")} value={ws.stale} warn={ws.stale > 0} />
          <Stat label={t("health.workersTotal")} value={ws.total} />
        </dl>
        <dl className="stats" aria-label={t("health.queue")}>
          <Stat label={t("health.queued")} value={queue.queued} />
          <Stat label={t("health.dispatching")} value={queue.dispatching} />
          <Stat label={t("health.doing")} value={queue.doing} />
          <Stat label={t("health.staleDispatching")} value={queue.stale_dispatching} warn={queue.stale_dispatching > 0} />
          <Stat label={t("health.blocked")} value={queue.blocked} warn={queue.blocked > 0} />
          <Stat label={t("health.openAlerts")} value={health.open_alerts} warn={health.open_alerts > 0} />
        </dl>
      </div>
      <p className="muted small">
        {t("health.thresholds", {
          min: health.thresholds.dispatch_stale_minutes,
          sec: health.thresholds.dispatch_worker_stale_seconds,
          max: health.thresholds.dispatch_max_concurrent || "∞",
        })}{" "}
        {t("health.activeAgents", { list: health.active_agents.length ? health.active_agents : t("common.none") })}
      </p>
    </Section>
  );
}

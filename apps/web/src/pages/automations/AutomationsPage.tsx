import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { ErrorBox, Loading } from "../../components/States.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { useTRPC } from "../../trpc.ts";
import { AlertsSection } from "./AlertsSection.tsx";
import { DispatchingSection } from "./DispatchingSection.tsx";
import { HealthSummary } from "./HealthSummary.tsx";
import { QueuedSection } from "./QueuedSection.tsx";
import { REFRESH_MS } from "./refresh.ts";
import { WatchdogSection } from "./WatchdogSection.tsx";
import { WorkersTable } from "./WorkersTable.tsx";
import { WorkspaceDispatchSwitch } from "./WorkspaceDispatchSwitch.tsx";
import { HEALTH_INPUT } from "../../hooks.ts";

/** Operacion → Automatizaciones: the runbook's diagnostics without SSH. */
export function AutomationsPage() {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const health = useQuery(trpc.dispatch.health.queryOptions(HEALTH_INPUT, { refetchInterval: REFRESH_MS }));
  const [refreshing, setRefreshing] = useState(false);

  const refresh = async () => {
    setRefreshing(true);
    try {
      await Promise.all([
        queryClient.invalidateQueries(trpc.dispatch.health.pathFilter()),
        queryClient.invalidateQueries(trpc.alerts.pathFilter()),
        queryClient.invalidateQueries(trpc.tasks.pathFilter()),
      ]);
    } finally {
      setRefreshing(false);
    }
  };

  return (
    <>
      <div className="page-head">
        <div>
          <p className="crumb">{t("nav.operacion")}</p>
          <h1>{t("auto.title")}</h1>
          <p className="muted">{t("auto.intro")}</p>
        </div>
        <div className="page-tools">
          <button type="button" className="btn" onClick={() => void refresh()} disabled={refreshing}>
            {refreshing ? t("common.refreshing") : t("common.refresh")}
          </button>
          <p className="muted small" aria-live="polite">
            {health.dataUpdatedAt ? t("common.updatedAt", { time: formatDateTime(new Date(health.dataUpdatedAt).toISOString(), lang) }) : null}
            <br />
            {t("common.autoRefresh", { s: REFRESH_MS / 1000 })}
          </p>
        </div>
      </div>
      {health.isPending ? (
        <Loading />
      ) : !health.data ? (
        <ErrorBox error={health.error} onRetry={() => void health.refetch()} />
      ) : (
        <>
          {health.error ? <ErrorBox error={health.error} onRetry={() => void health.refetch()} /> : null}
          <HealthSummary health={health.data} />
          <WorkspaceDispatchSwitch />
          <WorkersTable agents={[...new Set([...health.data.active_agents, ...health.data.agent_coverage.map((c) => c.slug)])]} />
          <div className="grid-2">
            <DispatchingSection rows={health.data.dispatching} />
            <WatchdogSection health={health.data} />
          </div>
          <AlertsSection />
          <QueuedSection />
        </>
      )}
    </>
  );
}

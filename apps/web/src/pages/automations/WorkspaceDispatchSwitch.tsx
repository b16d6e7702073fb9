import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { Section } from "../../components/Section.tsx";
import { ErrorBox } from "../../components/States.tsx";
import { useT } from "../../i18n/index.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { REFRESH_MS } from "./refresh.ts";

/**
 * The current workspace's own dispatch switch, which its admins turn off and
 * on (the instance's dispatch_enabled is an instance admin's), and how many
 * fresh workers serve it.
 */
export function WorkspaceDispatchSwitch() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { workspaceId, canAct } = useSession();
  const list = useQuery(trpc.dispatch.workspaces.queryOptions({}, { refetchInterval: REFRESH_MS }));
  const set = useMutation(
    trpc.dispatch.setWorkspaceDispatch.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries(trpc.dispatch.pathFilter());
      },
    }),
  );
  const current = list.data?.find((w) => w.workspace_id === workspaceId);
  if (!current) return list.error ? <ErrorBox error={list.error} onRetry={() => void list.refetch()} /> : null;
  const enabled = current.dispatch_enabled;
  return (
    <Section id="workspace-dispatch" title={t("wsDispatch.title", { name: current.name })}>
      <div className="health-line">
        <p className={enabled ? "pill pill-on" : "pill pill-off"} data-testid="workspace-dispatch-state">
          {enabled ? t("wsDispatch.on") : t("wsDispatch.off")}
        </p>
        {canAct ? (
          <button
            type="button"
            className={enabled ? "btn btn-danger" : "btn btn-primary"}
            aria-pressed={enabled}
            disabled={set.isPending}
            onClick={() => set.mutate({ workspace_id: workspaceId, enabled: !enabled })}
          >
            {enabled ? t("wsDispatch.pause") : t("wsDispatch.resume")}
          </button>
        ) : null}
      </div>
      <p className={current.fresh_workers === 0 ? "badge badge-warn" : "muted"} data-testid="workspace-served">
        {current.fresh_workers === 0 ? t("wsDispatch.unserved", { id: current.workspace_id }) : t("wsDispatch.served", { n: current.fresh_workers })}
      </p>
      {set.error ? <ErrorBox error={set.error} /> : null}
    </Section>
  );
}

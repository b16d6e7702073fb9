import type { THealth } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useT } from "../i18n/index.tsx";
import { problemText } from "../i18n/render.ts";
import { useSession } from "../session.tsx";
import { useTRPC } from "../trpc.ts";
import { Confirm } from "./Confirm.tsx";
import { ErrorBox } from "./States.tsx";
import { HEALTH_INPUT } from "../hooks.ts";

/**
 * Turns dispatch_enabled, the instance's switch (instance admins), on or off —
 * the one switch, wherever it is shown (Automatizaciones and Ajustes). Turning
 * it on while health has problems, or with no fresh worker, asks first and
 * says why; off never asks. Workspace admins have their workspace's own switch.
 */
export function DispatchSwitch({ health: given }: { health?: THealth }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { isInstanceAdmin } = useSession();
  // Ajustes has no health of its own: read it here (Automatizaciones passes what it shows).
  const fetched = useQuery(trpc.dispatch.health.queryOptions(HEALTH_INPUT, { enabled: given === undefined && isInstanceAdmin }));
  const health = given ?? fetched.data;
  const [confirming, setConfirming] = useState(false);
  const put = useMutation(
    trpc.settings.put.mutationOptions({
      onSuccess: () => {
        setConfirming(false);
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
        void queryClient.invalidateQueries(trpc.settings.pathFilter());
      },
    }),
  );
  if (!isInstanceAdmin || !health) return null;
  const enabled = health.dispatch_enabled;
  const noFreshWorker = health.worker_summary.fresh === 0;
  const set = (value: boolean) => put.mutate({ key: "dispatch_enabled", value: value ? "true" : "false" });
  const onClick = () => {
    if (enabled) set(false);
    else if (health.problems.length > 0 || noFreshWorker) setConfirming(true);
    else set(true);
  };
  return (
    <div className="toggle">
      <button
        type="button"
        className={enabled ? "btn btn-danger" : "btn btn-primary"}
        aria-pressed={enabled}
        onClick={onClick}
        disabled={put.isPending || confirming}
      >
        {enabled ? t("toggle.disable") : t("toggle.enable")}
      </button>
      {confirming ? (
        <Confirm
          title={t("toggle.confirmTitle")}
          confirmLabel={t("toggle.confirmEnable")}
          onConfirm={() => set(true)}
          onCancel={() => setConfirming(false)}
          busy={put.isPending}
        >
          {health.problems.length > 0 ? (
            <>
              <p>{t("toggle.confirmBody")}</p>
              <ul>
                {health.problems.map((p) => (
                  <li key={p.code}>{problemText(t, p, "problem")}</li>
                ))}
              </ul>
            </>
          ) : null}
          {noFreshWorker && !health.problems.some((p) => p.code === "NO_FRESH_WORKER") ? <p>{t("toggle.noFreshWorker")}</p> : null}
        </Confirm>
      ) : null}
      {put.error ? <ErrorBox error={put.error} /> : null}
    </div>
  );
}

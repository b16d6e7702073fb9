import type { THealth } from "@ops/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { ErrorBox } from "../../components/States.tsx";
import { useT } from "../../i18n/index.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";

/** Turns dispatch_enabled, the instance's switch (instance admins), on or off; turning it on while health has problems asks first. */
export function DispatchToggle({ health }: { health: THealth }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { isInstanceAdmin } = useSession();
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
  if (!isInstanceAdmin) return null;
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
          {health.problems.length > 0 ? <p>{t("toggle.confirmBody")}</p> : null}
          <ul>
            {health.problems.map((p) => (
              <li key={p.code}>{p.message}</li>
            ))}
            {noFreshWorker ? <li>{t("toggle.noFreshWorker")}</li> : null}
          </ul>
        </Confirm>
      ) : null}
      {put.error ? <ErrorBox error={put.error} /> : null}
    </div>
  );
}

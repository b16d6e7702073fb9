import { useMutation, useQueryClient } from "@tanstack/react-query";
import { useState } from "react";
import { useT } from "../i18n/index.tsx";
import { useTRPC } from "../trpc.ts";
import { Confirm } from "./Confirm.tsx";
import { ErrorBox } from "./States.tsx";

/** Rotates the service token; the new value is shown once and kept nowhere else. */
export function RotateToken() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const [token, setToken] = useState<string | null>(null);
  const rotate = useMutation(
    trpc.settings.rotateServiceToken.mutationOptions({
      gcTime: 0,
      onSuccess: ({ token: fresh }) => {
        setToken(fresh);
        setConfirming(false);
        void queryClient.invalidateQueries(trpc.settings.pathFilter());
        // A generated first-start token is no longer in use: health changes.
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
      },
    }),
  );
  return (
    <div className="stack">
      {token ? (
        <div className="token-once" role="status">
          <label className="field">
            <span>{t("settings.newToken")}</span>
            <input readOnly className="mono" value={token} onFocus={(e) => e.target.select()} data-testid="new-token" />
          </label>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setToken(null);
              rotate.reset();
            }}
          >
            {t("settings.tokenDismiss")}
          </button>
        </div>
      ) : confirming ? (
        <Confirm
          title={t("settings.rotateConfirm")}
          confirmLabel={t("settings.rotate")}
          onConfirm={() => rotate.mutate({})}
          onCancel={() => setConfirming(false)}
          busy={rotate.isPending}
        />
      ) : (
        <div className="row">
          <button type="button" className="btn" onClick={() => setConfirming(true)}>
            {t("settings.rotate")}
          </button>
        </div>
      )}
      {rotate.error ? <ErrorBox error={rotate.error} /> : null}
    </div>
  );
}

import { isSettingKey, SETTINGS, type TSetting, validateSetting } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { DispatchSwitch } from "../components/DispatchSwitch.tsx";
import { RotateToken } from "../components/RotateToken.tsx";
import { ErrorBox, QueryView } from "../components/States.tsx";
import { formatDateTime } from "../format.ts";
import { useI18n } from "../i18n/index.tsx";
import { describeError, settingDescription } from "../i18n/words.ts";
import { useSession } from "../session.tsx";
import { useTRPC } from "../trpc.ts";
import { WorkerTokensSection } from "./settings/WorkerTokensSection.tsx";

export function SettingsPage() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const settings = useQuery(trpc.settings.list.queryOptions({}));
  return (
    <>
      <div className="page-head">
        <h1>{t("settings.title")}</h1>
      </div>
      <QueryView query={settings} isEmpty={(list) => list.length === 0}>
        {(list) => (
          <div className="stack">
            {list.map((s) => (
              <SettingCard key={s.key} setting={s} />
            ))}
          </div>
        )}
      </QueryView>
      <WorkerTokensSection />
    </>
  );
}

function mayEdit(key: string, canAct: boolean, isInstanceAdmin: boolean): boolean {
  const def = isSettingKey(key) ? SETTINGS[key] : undefined;
  return def && "instanceOnly" in def && def.instanceOnly ? isInstanceAdmin : canAct;
}

function SettingCard({ setting }: { setting: TSetting }) {
  const { t, lang } = useI18n();
  const { canAct, isInstanceAdmin } = useSession();
  const editable = mayEdit(setting.key, canAct, isInstanceAdmin);
  return (
    <section className="card setting" aria-labelledby={`setting-${setting.key}`}>
      <h2 id={`setting-${setting.key}`} className="mono">
        {setting.key}
      </h2>
      <p className="muted">{settingDescription(t, setting.key, setting.description)}</p>
      {setting.secret ? (
        <p>{setting.is_set ? t("settings.secretSet") : t("settings.secretUnset")}</p>
      ) : (
        <p>
          {t("settings.value")}: <strong className="mono" data-testid={`value-${setting.key}`}>{setting.value ?? t("common.none")}</strong>
        </p>
      )}
      {setting.updated_at ? (
        <p className="muted small">
          {setting.updated_by
            ? t("settings.updated", { when: formatDateTime(setting.updated_at, lang), by: setting.updated_by })
            : t("settings.updatedAt", { when: formatDateTime(setting.updated_at, lang) })}
        </p>
      ) : null}
      {setting.secret ? (
        editable ? (
          <RotateToken />
        ) : (
          <p className="muted small">{t("settings.operatorOnly")}</p>
        )
      ) : !editable ? null : setting.key === "dispatch_enabled" ? (
        // The same switch (and the same confirmation) as in Automatizaciones.
        <DispatchSwitch />
      ) : (
        <SettingForm setting={setting} />
      )}
    </section>
  );
}

/** Edits one setting; the value is checked with the contract's own rules before it is sent, and the refusal said in words. */
export function SettingForm({ setting }: { setting: TSetting }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [value, setValue] = useState(setting.value ?? "");
  const check = validateSetting(setting.key, value);
  const put = useMutation(
    trpc.settings.put.mutationOptions({
      onSuccess: (saved) => {
        setValue(saved.value ?? "");
        void queryClient.invalidateQueries(trpc.settings.pathFilter());
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (check.ok) put.mutate({ key: setting.key, value: check.value });
  };
  const inputId = `input-${setting.key}`;
  const errorId = `error-${setting.key}`;
  const refusal = check.ok ? undefined : describeError({ data: { opsCode: "VALIDATION", params: { ...check.params, reason: check.reason } } }, t).summary;
  return (
    <form className="row wrap setting-form" onSubmit={submit}>
      <label className="inline-field" htmlFor={inputId}>
        <span>{t("settings.value")}</span>
      </label>
      <input
        id={inputId}
        className="mono"
        value={value}
        onChange={(e) => {
          setValue(e.target.value);
          put.reset();
        }}
        aria-invalid={!check.ok}
        aria-describedby={check.ok ? undefined : errorId}
      />
      <button type="submit" className="btn btn-primary" disabled={!check.ok || put.isPending || value === setting.value}>
        {put.isPending ? t("common.saving") : t("common.save")}
      </button>
      {put.isSuccess && value === setting.value ? (
        <span className="ok-text" role="status">
          {t("common.saved")}
        </span>
      ) : null}
      {refusal ? (
        <p id={errorId} className="field-error" role="alert">
          {refusal}
        </p>
      ) : null}
      {put.error ? <ErrorBox error={put.error} /> : null}
    </form>
  );
}


import { PASSWORD_MIN_LENGTH } from "@ops/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useId, useState } from "react";
import { errorField } from "../errors.ts";
import { useT } from "../i18n/index.tsx";
import { useTRPC } from "../trpc.ts";
import { ErrorBox } from "./States.tsx";

/** Change my password: the current one, the new one twice. My other sessions end; this one stays. */
export function ChangePasswordForm() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [current, setCurrent] = useState("");
  const [next, setNext] = useState("");
  const [repeat, setRepeat] = useState("");
  const id = useId();
  const change = useMutation(
    trpc.auth.changePassword.mutationOptions({
      onSuccess: () => {
        setCurrent("");
        setNext("");
        setRepeat("");
        // A generated first-start password is no longer in use: health changes.
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
      },
    }),
  );
  const tooShort = next.length > 0 && next.length < PASSWORD_MIN_LENGTH;
  const mismatch = repeat.length > 0 && next !== repeat;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!tooShort && !mismatch && next) change.mutate({ current_password: current, new_password: next });
  };
  const wrongField = change.error ? errorField(change.error) : undefined;
  return (
    <form className="form narrow-form" onSubmit={submit}>
      <label className="field">
        <span>{t("account.current")}</span>
        <input
          type="password"
          name="current_password"
          autoComplete="current-password"
          required
          value={current}
          onChange={(e) => setCurrent(e.target.value)}
          aria-invalid={wrongField === "current_password"}
        />
      </label>
      <div className="field">
        <label htmlFor={`${id}-new`}>{t("account.new")}</label>
        <input
          id={`${id}-new`}
          type="password"
          name="new_password"
          autoComplete="new-password"
          required
          minLength={PASSWORD_MIN_LENGTH}
          value={next}
          onChange={(e) => setNext(e.target.value)}
          aria-invalid={tooShort || wrongField === "new_password"}
          aria-describedby={`${id}-hint`}
        />
        <small id={`${id}-hint`} className={tooShort ? "field-error" : "muted"}>
          {tooShort ? t("account.tooShort", { min: PASSWORD_MIN_LENGTH }) : t("account.hint", { min: PASSWORD_MIN_LENGTH })}
        </small>
      </div>
      <div className="field">
        <label htmlFor={`${id}-repeat`}>{t("account.repeat")}</label>
        <input
          id={`${id}-repeat`}
          type="password"
          name="repeat_password"
          autoComplete="new-password"
          required
          value={repeat}
          onChange={(e) => setRepeat(e.target.value)}
          aria-invalid={mismatch}
          aria-describedby={mismatch ? `${id}-mismatch` : undefined}
        />
        {mismatch ? (
          <small id={`${id}-mismatch`} className="field-error">
            {t("account.mismatch")}
          </small>
        ) : null}
      </div>
      {change.error ? <ErrorBox error={change.error} /> : null}
      {change.isSuccess ? (
        <p className="ok-text" role="status">
          {t("account.changed")}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={change.isPending || tooShort || mismatch || !next || !current}>
          {change.isPending ? t("common.saving") : t("account.changePassword")}
        </button>
      </div>
    </form>
  );
}

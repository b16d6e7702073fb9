import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { LanguageSwitch } from "../components/LanguageSwitch.tsx";
import { ErrorBox } from "../components/States.tsx";
import { errorCode, errorParams } from "../errors.ts";
import { useT } from "../i18n/index.tsx";
import { useTRPC } from "../trpc.ts";

export function SignInPage() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const login = useMutation(
    trpc.auth.login.mutationOptions({
      // The gate's "who am I" query now has an answer: the app renders.
      onSuccess: ({ me }) => queryClient.setQueryData(trpc.auth.me.queryKey({}), me),
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    login.mutate({ username: username.trim(), password });
  };
  // Never say which part was wrong: the API answers UNAUTHORIZED for both. A
  // reason (a disabled account) is said only to someone who knew the password.
  const invalid = login.error && errorCode(login.error) === "UNAUTHORIZED" && errorParams(login.error).reason === undefined;
  return (
    <main className="signin" id="main">
      <form className="card signin-card" onSubmit={submit} aria-labelledby="signin-title">
        <div className="card-head">
          <h1 id="signin-title">
            {t("app.title")} · {t("auth.title")}
          </h1>
          <LanguageSwitch />
        </div>
        <label className="field">
          <span>{t("auth.username")}</span>
          <input name="username" autoComplete="username" required value={username} onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label className="field">
          <span>{t("auth.password")}</span>
          <input
            name="password"
            type="password"
            autoComplete="current-password"
            required
            value={password}
            onChange={(e) => setPassword(e.target.value)}
          />
        </label>
        {invalid ? (
          <p className="error-box" role="alert">
            {t("auth.invalid")}
          </p>
        ) : login.error ? (
          <ErrorBox error={login.error} />
        ) : null}
        <button type="submit" className="btn btn-primary" disabled={login.isPending}>
          {login.isPending ? t("auth.submitting") : t("auth.submit")}
        </button>
      </form>
    </main>
  );
}

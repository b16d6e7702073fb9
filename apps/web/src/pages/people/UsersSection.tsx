import { PASSWORD_MIN_LENGTH, type TRole, type TUser, USERNAME_PATTERN } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { htmlPattern } from "../../html-pattern.ts";
import { useT } from "../../i18n/index.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { RoleSelect } from "./MembersSection.tsx";

/** Every user (instance admins): create, disable or enable, set a new password. */
export function UsersSection() {
  const t = useT();
  const trpc = useTRPC();
  const users = useQuery(trpc.users.list.queryOptions({}));
  return (
    <Section id="users" title={t("people.users.title")}>
      <QueryView query={users}>
        {(list) => (
          <div className="table-wrap">
            <table className="cards-narrow">
              <thead>
                <tr>
                  <th scope="col">{t("people.users.username")}</th>
                  <th scope="col">{t("people.users.workspaces")}</th>
                  <th scope="col">{t("people.users.state")}</th>
                  <th scope="col">
                    <span className="sr-only">{t("task.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((u) => (
                  <UserRow key={u.id} user={u} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      <NewUser />
    </Section>
  );
}

function UserRow({ user }: { user: TUser }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { me } = useSession();
  const [confirming, setConfirming] = useState(false);
  const [resetting, setResetting] = useState(false);
  const refresh = () => {
    setConfirming(false);
    void queryClient.invalidateQueries(trpc.users.pathFilter());
    void queryClient.invalidateQueries(trpc.memberships.pathFilter());
  };
  const disable = useMutation(trpc.users.disable.mutationOptions({ onSuccess: refresh }));
  const enable = useMutation(trpc.users.enable.mutationOptions({ onSuccess: refresh }));
  const self = me.id === user.id;
  return (
    <tr data-user={user.username} className={user.disabled ? "row-muted" : undefined}>
      <td data-label={t("people.users.username")}>
        <strong>{user.username}</strong> {self ? <span className="muted">{t("common.you")}</span> : null}
        {user.is_instance_admin ? <span className="badge badge-sensitive">{t("role.instanceAdmin")}</span> : null}
      </td>
      <td data-label={t("people.users.workspaces")}>
        {user.memberships.length ? user.memberships.map((m) => `${m.workspace_name} (${t(m.role === "admin" ? "role.admin" : "role.member")})`).join(", ") : t("common.none")}
      </td>
      <td data-label={t("people.users.state")}>
        <span className={user.disabled ? "badge badge-warn" : "badge badge-ok"}>{user.disabled ? t("people.users.disabled") : t("people.users.active")}</span>
      </td>
      <td className="cell-action">
        <div className="row">
          {user.disabled ? (
            <button type="button" className="btn btn-small" onClick={() => enable.mutate({ id: user.id })} disabled={enable.isPending} aria-label={`${t("people.users.enable")}: ${user.username}`}>
              {t("people.users.enable")}
            </button>
          ) : self ? null : (
            <button type="button" className="btn btn-small" onClick={() => setConfirming(true)} disabled={confirming} aria-label={`${t("people.users.disable")}: ${user.username}`}>
              {t("people.users.disable")}
            </button>
          )}
          <button type="button" className="btn btn-small" aria-expanded={resetting} onClick={() => setResetting(!resetting)} aria-label={`${t("people.users.reset")}: ${user.username}`}>
            {t("people.users.reset")}
          </button>
        </div>
        {confirming ? (
          <Confirm
            title={t("people.users.disableConfirm", { user: user.username })}
            confirmLabel={t("people.users.disable")}
            onConfirm={() => disable.mutate({ id: user.id })}
            onCancel={() => setConfirming(false)}
            busy={disable.isPending}
          />
        ) : null}
        {resetting ? <ResetPassword user={user} onDone={() => setResetting(false)} /> : null}
        {disable.error ? <ErrorBox error={disable.error} /> : null}
        {enable.error ? <ErrorBox error={enable.error} /> : null}
      </td>
    </tr>
  );
}

function ResetPassword({ user, onDone }: { user: TUser; onDone(): void }) {
  const t = useT();
  const trpc = useTRPC();
  const [password, setPassword] = useState("");
  const reset = useMutation(trpc.users.resetPassword.mutationOptions({ onSuccess: () => setPassword("") }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    reset.mutate({ id: user.id, password });
  };
  return (
    <form className="entry-form" onSubmit={submit}>
      <label className="field field-grow">
        <span>{t("people.users.resetFor", { user: user.username })}</span>
        <input type="password" autoComplete="new-password" required minLength={PASSWORD_MIN_LENGTH} value={password} onChange={(e) => setPassword(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary" disabled={reset.isPending || password.length < PASSWORD_MIN_LENGTH}>
        {t("common.save")}
      </button>
      <button type="button" className="btn" onClick={onDone}>
        {t("common.close")}
      </button>
      {reset.isSuccess ? (
        <p className="ok-text" role="status">
          {t("people.users.resetDone", { user: user.username })}
        </p>
      ) : null}
      {reset.error ? <ErrorBox error={reset.error} /> : null}
    </form>
  );
}

function NewUser() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const workspaces = useQuery(trpc.workspaces.list.queryOptions({}));
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const [instanceAdmin, setInstanceAdmin] = useState(false);
  const [workspace, setWorkspace] = useState("");
  const [role, setRole] = useState<TRole>("member");
  const create = useMutation(
    trpc.users.create.mutationOptions({
      onSuccess: () => {
        setUsername("");
        setPassword("");
        setInstanceAdmin(false);
        void queryClient.invalidateQueries(trpc.users.pathFilter());
        void queryClient.invalidateQueries(trpc.memberships.pathFilter());
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({
      username: username.trim(),
      password,
      is_instance_admin: instanceAdmin,
      ...(workspace ? { workspace_id: Number(workspace), role } : {}),
    });
  };
  return (
    <form className="form new-user" onSubmit={submit} aria-label={t("people.users.new")}>
      <h3>{t("people.users.new")}</h3>
      <div className="form-row">
        <label className="field">
          <span>{t("people.users.username")}</span>
          <input name="new-username" required value={username} onChange={(e) => setUsername(e.target.value)} pattern={htmlPattern(USERNAME_PATTERN)} />
        </label>
        <label className="field">
          <span>{t("people.users.password")}</span>
          <input name="new-password" type="password" autoComplete="new-password" required minLength={PASSWORD_MIN_LENGTH} value={password} onChange={(e) => setPassword(e.target.value)} />
        </label>
        <label className="field">
          <span>{t("people.users.workspace")}</span>
          <select name="new-workspace" value={workspace} onChange={(e) => setWorkspace(e.target.value)}>
            <option value="">{t("people.users.noWorkspace")}</option>
            {(workspaces.data ?? []).map((w) => (
              <option key={w.id} value={w.id}>
                {w.name}
              </option>
            ))}
          </select>
        </label>
        {workspace ? (
          <div className="field">
            <span aria-hidden="true">{t("people.users.role")}</span>
            <RoleSelect label={t("people.users.role")} value={role} onChange={setRole} />
          </div>
        ) : null}
      </div>
      <label className="check">
        <input type="checkbox" checked={instanceAdmin} onChange={(e) => setInstanceAdmin(e.target.checked)} />
        <span>{t("people.users.instanceAdmin")}</span>
      </label>
      {create.error ? <ErrorBox error={create.error} /> : null}
      {create.isSuccess ? (
        <p className="ok-text" role="status">
          {t("people.users.created", { user: create.data.username })}
        </p>
      ) : null}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={create.isPending || password.length < PASSWORD_MIN_LENGTH || !username.trim()}>
          {t("people.users.new")}
        </button>
      </div>
    </form>
  );
}

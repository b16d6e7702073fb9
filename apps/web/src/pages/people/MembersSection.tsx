import { type TMember, type TRole, USERNAME_PATTERN } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { htmlPattern } from "../../html-pattern.ts";
import { useT } from "../../i18n/index.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";

export function RoleSelect({ value, onChange, disabled, label }: { value: TRole; onChange(role: TRole): void; disabled?: boolean; label: string }) {
  const t = useT();
  return (
    <select aria-label={label} value={value} disabled={disabled} onChange={(e) => onChange(e.target.value as TRole)}>
      <option value="member">{t("role.member")}</option>
      <option value="admin">{t("role.admin")}</option>
    </select>
  );
}

/** The current workspace's members: add by username, change a role, remove. Not one's own membership. */
export function MembersSection() {
  const t = useT();
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  const workspaces = useQuery(trpc.workspaces.list.queryOptions({}));
  const name = workspaces.data?.find((w) => w.id === workspaceId)?.name ?? `#${workspaceId}`;
  const members = useQuery(trpc.memberships.list.queryOptions({ workspace_id: workspaceId }));
  return (
    <Section id="members" title={t("people.members.title", { workspace: name })}>
      <QueryView query={members} isEmpty={(list) => list.length === 0} empty={t("people.members.empty")}>
        {(list) => (
          <div className="table-wrap">
            <table className="cards-narrow">
              <thead>
                <tr>
                  <th scope="col">{t("people.members.username")}</th>
                  <th scope="col">{t("people.members.role")}</th>
                  <th scope="col">
                    <span className="sr-only">{t("task.actions")}</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((m) => (
                  <MemberRow key={m.user_id} member={m} workspace={name} />
                ))}
              </tbody>
            </table>
          </div>
        )}
      </QueryView>
      <AddMember />
    </Section>
  );
}

function MemberRow({ member, workspace }: { member: TMember; workspace: string }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { me, workspaceId } = useSession();
  const [confirming, setConfirming] = useState(false);
  const refresh = () => void queryClient.invalidateQueries(trpc.memberships.pathFilter());
  const setRole = useMutation(trpc.memberships.setRole.mutationOptions({ onSuccess: refresh }));
  const remove = useMutation(trpc.memberships.remove.mutationOptions({ onSuccess: refresh }));
  const self = me.id === member.user_id;
  return (
    <tr data-member={member.username}>
      <td data-label={t("people.members.username")}>
        {member.username} {self ? <span className="muted">{t("common.you")}</span> : null}
        {member.disabled ? <span className="badge badge-warn">{t("people.members.disabled")}</span> : null}
      </td>
      <td data-label={t("people.members.role")}>
        <RoleSelect
          label={`${t("people.members.role")}: ${member.username}`}
          value={member.role}
          disabled={self || setRole.isPending}
          onChange={(role) => setRole.mutate({ workspace_id: workspaceId, user_id: member.user_id, role })}
        />
        {setRole.error ? <ErrorBox error={setRole.error} /> : null}
      </td>
      <td className="cell-action">
        {self ? null : (
          <button type="button" className="btn btn-small" onClick={() => setConfirming(true)} disabled={confirming} aria-label={`${t("people.members.remove")}: ${member.username}`}>
            {t("people.members.remove")}
          </button>
        )}
        {confirming ? (
          <Confirm
            title={t("people.members.removeConfirm", { user: member.username, workspace })}
            confirmLabel={t("people.members.remove")}
            onConfirm={() => remove.mutate({ workspace_id: workspaceId, user_id: member.user_id })}
            onCancel={() => setConfirming(false)}
            busy={remove.isPending}
          />
        ) : null}
        {remove.error ? <ErrorBox error={remove.error} /> : null}
      </td>
    </tr>
  );
}

function AddMember() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { workspaceId } = useSession();
  const [username, setUsername] = useState("");
  const [role, setRole] = useState<TRole>("member");
  const add = useMutation(
    trpc.memberships.add.mutationOptions({
      onSuccess: () => {
        setUsername("");
        void queryClient.invalidateQueries(trpc.memberships.pathFilter());
        void queryClient.invalidateQueries(trpc.users.pathFilter());
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ workspace_id: workspaceId, username: username.trim(), role });
  };
  return (
    <form className="entry-form" onSubmit={submit} aria-label={t("people.members.add")}>
      <label className="field field-grow">
        <span>{t("people.members.username")}</span>
        <input name="member-username" required value={username} onChange={(e) => setUsername(e.target.value)} pattern={htmlPattern(USERNAME_PATTERN)} />
      </label>
      <div className="field">
        <span aria-hidden="true">{t("people.members.role")}</span>
        <RoleSelect label={t("people.members.role")} value={role} onChange={setRole} />
      </div>
      <button type="submit" className="btn btn-primary" disabled={add.isPending || !username.trim()}>
        {t("people.members.add")}
      </button>
      {add.error ? <ErrorBox error={add.error} /> : null}
    </form>
  );
}

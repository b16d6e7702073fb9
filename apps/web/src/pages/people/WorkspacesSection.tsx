import type { TWorkspace } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { useT } from "../../i18n/index.tsx";
import { useTRPC } from "../../trpc.ts";

/** Workspaces (instance admins): create and rename. */
export function WorkspacesSection() {
  const t = useT();
  const trpc = useTRPC();
  const workspaces = useQuery(trpc.workspaces.list.queryOptions({}));
  return (
    <Section id="workspaces" title={t("people.workspaces.title")}>
      <QueryView query={workspaces}>
        {(list) => (
          <ul className="plain-list">
            {list.map((w) => (
              <WorkspaceRow key={`${w.id}:${w.name}`} workspace={w} />
            ))}
          </ul>
        )}
      </QueryView>
      <NewWorkspace />
    </Section>
  );
}

function useRefreshWorkspaces() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries(trpc.workspaces.pathFilter());
    void queryClient.invalidateQueries(trpc.users.pathFilter());
  };
}

function WorkspaceRow({ workspace }: { workspace: TWorkspace }) {
  const t = useT();
  const trpc = useTRPC();
  const [name, setName] = useState(workspace.name);
  const rename = useMutation(trpc.workspaces.rename.mutationOptions({ onSuccess: useRefreshWorkspaces() }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    rename.mutate({ id: workspace.id, name: name.trim() });
  };
  return (
    <li className="workspace-row">
      <form className="entry-form" onSubmit={submit}>
        <span className="muted">#{workspace.id}</span>
        <label className="field field-grow">
          <span className="sr-only">{t("people.workspaces.name")}</span>
          <input value={name} required onChange={(e) => setName(e.target.value)} aria-label={`${t("people.workspaces.name")} #${workspace.id}`} />
        </label>
        <button type="submit" className="btn btn-small" disabled={rename.isPending || !name.trim() || name.trim() === workspace.name}>
          {t("people.workspaces.rename")}
        </button>
        {rename.error ? <ErrorBox error={rename.error} /> : null}
      </form>
    </li>
  );
}

function NewWorkspace() {
  const t = useT();
  const trpc = useTRPC();
  const refresh = useRefreshWorkspaces();
  const [name, setName] = useState("");
  const create = useMutation(
    trpc.workspaces.create.mutationOptions({
      onSuccess: () => {
        setName("");
        refresh();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ name: name.trim() });
  };
  return (
    <form className="entry-form" onSubmit={submit} aria-label={t("people.workspaces.new")}>
      <label className="field field-grow">
        <span>{t("people.workspaces.new")}</span>
        <input name="workspace-name" required value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <button type="submit" className="btn btn-primary" disabled={create.isPending || !name.trim()}>
        {t("common.create")}
      </button>
      {create.error ? <ErrorBox error={create.error} /> : null}
    </form>
  );
}

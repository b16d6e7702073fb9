import { SLUG_PATTERN, type TAgent } from "@ops/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Section } from "../components/Section.tsx";
import { ErrorBox, QueryView } from "../components/States.tsx";
import { useAgents } from "../hooks.ts";
import { htmlPattern } from "../html-pattern.ts";
import { useT } from "../i18n/index.tsx";
import { useSession } from "../session.tsx";
import { useTRPC } from "../trpc.ts";

const orNull = (v: string) => (v.trim() ? v.trim() : null);

export function AgentsPage() {
  const t = useT();
  const agents = useAgents();
  const { canAct } = useSession();
  return (
    <>
      <div className="page-head">
        <h1>{t("agents.title")}</h1>
      </div>
      <QueryView query={agents} isEmpty={(list) => list.length === 0} empty={t("agents.empty")}>
        {(list) => (
          <div className="agents">
            {list.map((agent) => (canAct ? <AgentForm key={agent.id} agent={agent} /> : <AgentView key={agent.id} agent={agent} />))}
          </div>
        )}
      </QueryView>
      {canAct ? <NewAgent /> : null}
    </>
  );
}

function AgentView({ agent }: { agent: TAgent }) {
  const t = useT();
  return (
    <Section id={`agent-${agent.id}`} title={`${agent.slug} · ${agent.name}`}>
      <dl className="details">
        <div>
          <dt>{t("agents.active")}</dt>
          <dd>{agent.active ? t("common.yes") : t("common.no")}</dd>
        </div>
        <div>
          <dt>{t("agents.launchCommand")}</dt>
          <dd className="mono">{agent.launch_command ?? t("common.none")}</dd>
        </div>
        <div>
          <dt>{t("agents.defaultModel")}</dt>
          <dd>{agent.default_model ?? t("common.none")}</dd>
        </div>
        <div>
          <dt>{t("agents.workingDir")}</dt>
          <dd className="mono">{agent.working_dir ?? t("common.none")}</dd>
        </div>
      </dl>
    </Section>
  );
}

function AgentForm({ agent }: { agent: TAgent }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [name, setName] = useState(agent.name);
  const [active, setActive] = useState(agent.active);
  const [command, setCommand] = useState(agent.launch_command ?? "");
  const [model, setModel] = useState(agent.default_model ?? "");
  const [dir, setDir] = useState(agent.working_dir ?? "");
  // Launch commands and working folders run on every worker: an instance admin's to set.
  const { isInstanceAdmin } = useSession();
  const update = useMutation(
    trpc.agents.update.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries(trpc.agents.pathFilter());
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ id: agent.id, name, active, launch_command: orNull(command), default_model: orNull(model), working_dir: orNull(dir) });
  };
  const id = `agent-${agent.id}`;
  return (
    <form className="card form" onSubmit={submit} aria-labelledby={`${id}-title`}>
      <div className="card-head">
        <h2 id={`${id}-title`}>
          {agent.slug} <span className={agent.active ? "badge badge-ok" : "badge"}>{agent.active ? t("agents.active") : "inactive"}</span>
        </h2>
      </div>
      <label className="check">
        <input type="checkbox" checked={active} onChange={(e) => setActive(e.target.checked)} />
        <span>{t("agents.active")}</span>
      </label>
      <div className="form-row">
        <label className="field">
          <span>{t("agents.name")}</span>
          <input required value={name} onChange={(e) => setName(e.target.value)} />
        </label>
        <label className="field">
          <span>{t("agents.defaultModel")}</span>
          <input value={model} onChange={(e) => setModel(e.target.value)} />
        </label>
        <label className="field">
          <span>{t("agents.workingDir")}</span>
          <input value={dir} onChange={(e) => setDir(e.target.value)} readOnly={!isInstanceAdmin} />
        </label>
      </div>
      <label className="field">
        <span>{t("agents.launchCommand")}</span>
        <input className="mono" value={command} onChange={(e) => setCommand(e.target.value)} aria-describedby={`${id}-hint`} readOnly={!isInstanceAdmin} />
        <small id={`${id}-hint`} className="muted">
          {t("agents.launchHint")} {isInstanceAdmin ? null : t("agents.instanceOnly")}
        </small>
      </label>
      {update.error ? <ErrorBox error={update.error} /> : null}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          {update.isPending ? t("common.saving") : t("common.save")}
        </button>
        {update.isSuccess ? (
          <span className="ok-text" role="status">
            {t("common.saved")}
          </span>
        ) : null}
      </div>
    </form>
  );
}

function NewAgent() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { workspaceId, isInstanceAdmin } = useSession();
  const [slug, setSlug] = useState("");
  const [name, setName] = useState("");
  const [command, setCommand] = useState("");
  const create = useMutation(
    trpc.agents.create.mutationOptions({
      onSuccess: () => {
        setSlug("");
        setName("");
        setCommand("");
        void queryClient.invalidateQueries(trpc.agents.pathFilter());
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ workspace_id: workspaceId, slug, name, launch_command: orNull(command) });
  };
  return (
    <Section id="new-agent" title={t("agents.new")}>
      <form className="form" onSubmit={submit}>
        <div className="form-row">
          <label className="field">
            <span>{t("agents.slug")}</span>
            <input required value={slug} onChange={(e) => setSlug(e.target.value)} pattern={htmlPattern(SLUG_PATTERN)} />
          </label>
          <label className="field">
            <span>{t("agents.name")}</span>
            <input required value={name} onChange={(e) => setName(e.target.value)} />
          </label>
        </div>
        {isInstanceAdmin ? (
          <label className="field">
            <span>{t("agents.launchCommand")}</span>
            <input className="mono" value={command} onChange={(e) => setCommand(e.target.value)} />
          </label>
        ) : null}
        {create.error ? <ErrorBox error={create.error} /> : null}
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {t("agents.create")}
          </button>
        </div>
      </form>
    </Section>
  );
}

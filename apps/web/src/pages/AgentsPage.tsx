import { SLUG_PATTERN, type TAgent, type TAgentCoverage } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../components/Confirm.tsx";
import { LaunchCommandCheck } from "../components/LaunchCommandCheck.tsx";
import { Section } from "../components/Section.tsx";
import { ErrorBox, QueryView } from "../components/States.tsx";
import { HEALTH_INPUT, useAgents } from "../hooks.ts";
import { htmlPattern } from "../html-pattern.ts";
import { useT } from "../i18n/index.tsx";
import { workerListText } from "../i18n/words.ts";
import { useSession } from "../session.tsx";
import { useTRPC } from "../trpc.ts";

const orNull = (v: string) => (v.trim() ? v.trim() : null);

/**
 * Launch command templates to start from (docs/launcher.md has the built-in
 * ones and every placeholder). An empty command uses the launcher's own.
 */
const EXAMPLES: Record<string, string> = {
  codex: "codex exec --skip-git-repo-check -C {workdir} [--model {model}] {prompt}",
  opencode: "opencode run --dir {workdir} [--model {model}] {prompt}",
  claudecode: "claude -p --output-format text [--model {model}] -- {prompt}",
  hermes: "hermes chat -Q [--model {model}] -q {prompt}",
};
const exampleFor = (slug: string) => EXAMPLES[slug] ?? `${slug} run --cwd {workdir} [--model {model}] --prompt-file {prompt_file}`;

export function AgentsPage() {
  const t = useT();
  const trpc = useTRPC();
  const agents = useAgents();
  const { canAct } = useSession();
  const health = useQuery(trpc.dispatch.health.queryOptions(HEALTH_INPUT, { refetchInterval: 15_000 }));
  const coverage = new Map((health.data?.agent_coverage ?? []).map((c) => [c.slug, c]));
  return (
    <>
      <div className="page-head">
        <h1>{t("agents.title")}</h1>
      </div>
      <QueryView query={agents} isEmpty={(list) => list.length === 0} empty={t("agents.empty")}>
        {(list) => (
          <div className="agents">
            {list.map((agent) => (
              <AgentCard key={agent.id} agent={agent} coverage={coverage.get(agent.slug)} />
            ))}
          </div>
        )}
      </QueryView>
      {canAct ? <NewAgent /> : null}
    </>
  );
}

/** One agent: what it is and who runs it; admins edit it on demand and delete it when no task uses it. */
function AgentCard({ agent, coverage }: { agent: TAgent; coverage: TAgentCoverage | undefined }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { canAct } = useSession();
  const [editing, setEditing] = useState(false);
  const [confirming, setConfirming] = useState(false);
  const [saved, setSaved] = useState(false);
  const remove = useMutation(
    trpc.agents.delete.mutationOptions({
      onSuccess: () => {
        setConfirming(false);
        void queryClient.invalidateQueries(trpc.agents.pathFilter());
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
      },
    }),
  );
  const id = `agent-${agent.id}`;
  return (
    <section className="card" aria-labelledby={`${id}-title`} data-agent={agent.slug}>
      <div className="card-head">
        <h2 id={`${id}-title`}>
          {agent.slug} <span className="muted">· {agent.name}</span>{" "}
          <span className={agent.active ? "badge badge-ok" : "badge"}>{agent.active ? t("agents.active") : t("agents.inactive")}</span>
        </h2>
        {canAct && !editing ? (
          <div className="row">
            <button type="button" className="btn btn-small" onClick={() => { setEditing(true); setSaved(false); }} aria-label={`${t("common.edit")}: ${agent.slug}`}>
              {t("common.edit")}
            </button>
            <button type="button" className="btn btn-small" onClick={() => setConfirming(true)} disabled={confirming} aria-label={`${t("common.delete")}: ${agent.slug}`}>
              {t("common.delete")}
            </button>
          </div>
        ) : null}
      </div>
      {confirming ? (
        <Confirm
          title={t("agents.deleteConfirm", { slug: agent.slug })}
          confirmLabel={t("common.delete")}
          onConfirm={() => remove.mutate({ id: agent.id })}
          onCancel={() => {
            setConfirming(false);
            remove.reset();
          }}
          busy={remove.isPending}
        />
      ) : null}
      {remove.error ? <ErrorBox error={remove.error} /> : null}
      {editing ? (
        <AgentForm
          agent={agent}
          onDone={(didSave) => {
            setEditing(false);
            setSaved(didSave);
          }}
        />
      ) : (
        <AgentDetails agent={agent} />
      )}
      {saved ? (
        <p className="ok-text" role="status">
          {t("common.saved")}
        </p>
      ) : null}
      <h3>{t("agents.workers")}</h3>
      {coverage?.fresh_workers ? (
        <p className="mono">{workerListText(t, coverage)}</p>
      ) : (
        <p className="muted">{t("agents.noWorkers")}</p>
      )}
    </section>
  );
}

function AgentDetails({ agent }: { agent: TAgent }) {
  const t = useT();
  return (
    <dl className="details">
      <div className="details-wide">
        <dt>{t("agents.launchCommand")}</dt>
        <dd className="mono">{agent.launch_command ?? t("common.none")}</dd>
        {agent.launch_command ? null : <dd className="muted small mono">{t("agents.example", { example: exampleFor(agent.slug) })}</dd>}
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
  );
}

function AgentForm({ agent, onDone }: { agent: TAgent; onDone(saved: boolean): void }) {
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
  const [limit, setLimit] = useState(agent.run_timeout_minutes === null ? "" : String(agent.run_timeout_minutes));
  const update = useMutation(
    trpc.agents.update.mutationOptions({
      onSuccess: () => {
        void queryClient.invalidateQueries(trpc.agents.pathFilter());
        void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
        onDone(true);
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({
      id: agent.id,
      name,
      active,
      launch_command: orNull(command),
      default_model: orNull(model),
      working_dir: orNull(dir),
      run_timeout_minutes: limit.trim() ? Number(limit) : null,
    });
  };
  const id = `agent-${agent.id}`;
  const example = exampleFor(agent.slug);
  return (
    <form className="form" onSubmit={submit} aria-label={agent.slug}>
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
        <label className="field">
          <span>{t("agents.runTimeout")}</span>
          <input inputMode="numeric" pattern="[0-9]*" value={limit} placeholder={t("agents.runTimeoutHint")} title="dispatch_run_timeout_minutes" onChange={(e) => setLimit(e.target.value)} />
        </label>
      </div>
      <label className="field">
        <span>{t("agents.launchCommand")}</span>
        <input className="mono" value={command} onChange={(e) => setCommand(e.target.value)} aria-describedby={`${id}-hint ${id}-example`} readOnly={!isInstanceAdmin} />
        <small id={`${id}-hint`} className="muted">
          {t("agents.launchHint")} {isInstanceAdmin ? null : t("agents.instanceOnly")}
        </small>
        <small id={`${id}-example`} className="muted mono">
          {t("agents.example", { example })}
        </small>
      </label>
      <LaunchCommandCheck id={`${id}-problem`} command={command} />
      {update.error ? <ErrorBox error={update.error} /> : null}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          {update.isPending ? t("common.saving") : t("common.save")}
        </button>
        {isInstanceAdmin ? (
          <button type="button" className="btn" onClick={() => setCommand(example)}>
            {t("agents.useExample")}
          </button>
        ) : null}
        <button type="button" className="btn" onClick={() => onDone(false)}>
          {t("common.cancel")}
        </button>
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
          <>
            <label className="field">
              <span>{t("agents.launchCommand")}</span>
              <input className="mono" value={command} onChange={(e) => setCommand(e.target.value)} placeholder={slug ? exampleFor(slug) : undefined} />
              <small className="muted">{t("agents.launchHint")}</small>
            </label>
            <LaunchCommandCheck id="new-agent-problem" command={command} />
          </>
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

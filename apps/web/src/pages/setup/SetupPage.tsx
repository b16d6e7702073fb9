import type { TAgent, TAgentCoverage, THealth } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, type ReactNode, useState } from "react";
import { ChangePasswordForm } from "../../components/ChangePasswordForm.tsx";
import { CopyCommand } from "../../components/CopyCommand.tsx";
import { RotateToken } from "../../components/RotateToken.tsx";
import { isWorkerId, WorkerIdField } from "../../components/WorkerIdField.tsx";
import { ErrorBox, Loading } from "../../components/States.tsx";
import { HEALTH_INPUT, useAgents } from "../../hooks.ts";
import { useT } from "../../i18n/index.tsx";
import { workerListText } from "../../i18n/words.ts";
import { PATHS } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useTRPC } from "../../trpc.ts";

function Step({ id, n, title, done, children }: { id: string; n: number; title: string; done?: boolean; children: ReactNode }) {
  const t = useT();
  return (
    <section className={done ? "card step step-done" : "card step"} aria-labelledby={`${id}-title`} id={id}>
      <div className="card-head">
        <h2 id={`${id}-title`}>
          {n}. {title}
        </h2>
        {done === undefined ? null : <span className={done ? "badge badge-ok" : "badge badge-warn"}>{done ? t("setup.done") : t("setup.todo")}</span>}
      </div>
      {children}
    </section>
  );
}

/**
 * Operación → Puesta en marcha: from a fresh `pnpm start` to a healthy
 * server with its first launcher. Each step reads its state from health, so
 * the page is also a checklist to come back to.
 */
export function SetupPage() {
  const t = useT();
  const trpc = useTRPC();
  const health = useQuery(trpc.dispatch.health.queryOptions(HEALTH_INPUT, { refetchInterval: 5_000 }));
  if (health.isPending) return <Loading />;
  if (!health.data) return <ErrorBox error={health.error} onRetry={() => void health.refetch()} />;
  const generated = (health.data.problems.find((p) => p.code === "DEFAULT_CREDENTIALS")?.params?.credentials ?? []) as string[];
  return (
    <>
      <div className="page-head">
        <div>
          <p className="crumb">{t("nav.operacion")}</p>
          <h1>{t("setup.title")}</h1>
          <p className="muted">{t("setup.intro")}</p>
        </div>
      </div>
      {health.data.ok ? (
        <p className="pill pill-ok" role="status" data-testid="setup-healthy">
          {t("setup.healthy")}
        </p>
      ) : null}
      <div className="stack setup-steps">
        <Step id="setup-password" n={1} title={t("setup.password.title")} done={!generated.includes("admin")}>
          {generated.includes("admin") ? (
            <>
              <p>{t("setup.password.todo")}</p>
              <ChangePasswordForm />
            </>
          ) : (
            <p className="muted">{t("setup.password.done")}</p>
          )}
        </Step>
        <Step id="setup-token" n={2} title={t("setup.token.title")} done={!generated.includes("service_token")}>
          <p className={generated.includes("service_token") ? undefined : "muted"}>
            {generated.includes("service_token") ? t("setup.token.todo") : t("setup.token.done")}
          </p>
          {/* Kept after the rotation: the new token is shown here once, and the step turns done meanwhile. */}
          <RotateToken />
        </Step>
        <Step id="setup-agents" n={3} title={t("setup.agents.title")} done={agentsCovered(health.data)}>
          <p className="muted">{t("setup.agents.intro")}</p>
          <ActiveAgents health={health.data} />
        </Step>
        <Step id="setup-launcher" n={4} title={t("setup.launcher.title")}>
          <LauncherCommand />
        </Step>
      </div>
    </>
  );
}

/** Done when some agent is active and a fresh worker runs every active one (with no worker yet, it cannot be). */
function agentsCovered(health: THealth): boolean {
  const covered = coverage(health);
  return health.active_agents.length > 0 && health.active_agents.every((slug) => covered.has(slug));
}

/** Fresh workers that report each slug as usable (exact count, first few ids). */
function coverage(health: THealth): Map<string, TAgentCoverage> {
  return new Map(health.agent_coverage.map((c) => [c.slug, c]));
}

function ActiveAgents({ health }: { health: THealth }) {
  const agents = useAgents();
  if (!agents.data) return agents.isPending ? <Loading /> : <ErrorBox error={agents.error} onRetry={() => void agents.refetch()} />;
  // Keyed by the saved state: after a save the checkboxes start from it again.
  return <AgentChoice key={agents.data.map((a) => `${a.id}:${a.active}`).join(",")} agents={agents.data} covered={coverage(health)} />;
}

function AgentChoice({ agents, covered }: { agents: TAgent[]; covered: Map<string, TAgentCoverage> }) {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [active, setActive] = useState(() => new Map(agents.map((a) => [a.id, a.active])));
  const update = useMutation(trpc.agents.update.mutationOptions());
  const [saved, setSaved] = useState(false);
  const changed = agents.filter((a) => active.get(a.id) !== a.active);
  const save = async () => {
    setSaved(false);
    for (const a of changed) await update.mutateAsync({ id: a.id, active: active.get(a.id) ?? a.active });
    await Promise.all([queryClient.invalidateQueries(trpc.agents.pathFilter()), queryClient.invalidateQueries(trpc.dispatch.health.pathFilter())]);
    setSaved(true);
  };
  return (
    <div className="stack">
      <ul className="plain-list agent-choice">
        {agents.map((a) => {
          const workers = covered.get(a.slug);
          return (
            <li key={a.id}>
              <label className="check">
                <input type="checkbox" checked={active.get(a.id) ?? false} onChange={(e) => setActive(new Map(active).set(a.id, e.target.checked))} />
                <span>
                  <strong>{a.slug}</strong> <span className="muted">{a.name}</span>
                </span>
              </label>
              <p className={workers?.fresh_workers ? "small ok-text" : "small muted"}>
                {workers?.fresh_workers ? t("setup.agents.coveredBy", { workers: workerListText(t, workers) }) : t("setup.agents.notCovered")}
              </p>
            </li>
          );
        })}
      </ul>
      {update.error ? <ErrorBox error={update.error} /> : null}
      <div className="row">
        <button type="button" className="btn btn-primary" onClick={() => void save().catch(() => undefined)} disabled={update.isPending || changed.length === 0}>
          {update.isPending ? t("common.saving") : t("setup.agents.save")}
        </button>
        {saved && changed.length === 0 ? (
          <span className="ok-text" role="status">
            {t("common.saved")}
          </span>
        ) : null}
      </div>
    </div>
  );
}

/**
 * Step 4: the launcher gets its own worker token (bound to its worker id, for
 * the whole instance: this is the instance admin's first launcher), issued
 * here and shown once inside the command to copy. Before that the command
 * carries placeholders, so nobody starts a launcher on the service token by
 * copying this page.
 */
function LauncherCommand() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agents = useAgents();
  const [workerId, setWorkerId] = useState("vm-1-launcher");
  const [issued, setIssued] = useState<{ token: string; workerId: string } | null>(null);
  const issue = useMutation(
    trpc.workers.issueToken.mutationOptions({
      gcTime: 0,
      onSuccess: ({ token, credential }) => {
        setIssued({ token, workerId: credential.worker_id });
        void queryClient.invalidateQueries(trpc.workers.pathFilter());
      },
    }),
  );
  const validId = isWorkerId(workerId);
  const api = `${window.location.origin}/api`;
  const slugs = (agents.data ?? []).filter((a) => a.active).map((a) => a.slug);
  // Names and values joined here: the bundle holds no "NAME=value" for the secrets scan to mistake for a baked-in token.
  const env = [
    ["OPS_API_BASE", api],
    ["OPS_WORKER_ID", issued?.workerId ?? t("setup.launcher.workerIdPlaceholder")],
    ["OPS_WORKER_TOKEN", `'${issued?.token ?? t("setup.launcher.placeholder")}'`],
  ]
    .map(([name, value]) => `${name}=${value}`)
    .join(" ");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (validId) issue.mutate({ worker_id: workerId, label: t("setup.launcher.tokenLabel"), workspace_ids: null });
  };
  return (
    <div className="stack">
      {issued ? (
        <p role="status" className="ok-text">
          {t("setup.launcher.issued", { worker: issued.workerId })}
        </p>
      ) : (
        <form className="row wrap" onSubmit={submit} aria-label={t("setup.launcher.issue")}>
          <WorkerIdField value={workerId} onChange={setWorkerId} />
          <button type="submit" className="btn btn-primary" disabled={!validId || issue.isPending}>
            {t("setup.launcher.issue")}
          </button>
        </form>
      )}
      {issue.error ? <ErrorBox error={issue.error} /> : null}
      <p>{t("setup.launcher.intro")}</p>
      <CopyCommand testId="launcher-command" command={`${env}${slugs.length ? ` SUPPORTED_AGENT_SLUGS=${slugs.join(",")}` : ""} pnpm launcher`} />
      <p className="muted small">
        {issued ? t("setup.launcher.tokenOnce") : t("setup.launcher.token")} <Link to={PATHS.ajustes}>{t("nav.ajustes")}</Link>
      </p>
      <p>{t("setup.launcher.doctor")}</p>
      <CopyCommand testId="doctor-command" command={`${env} npm run worker:doctor`} />
      <p className="muted small">{t("setup.launcher.credentials")}</p>
    </div>
  );
}

import type { TWorkerCredential } from "@ops/contract";
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { isWorkerId, WorkerIdField } from "../../components/WorkerIdField.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";

/**
 * Ajustes → Workers: the launchers' worker tokens. Issue one (bound to a
 * worker id and the workspaces its pool serves; shown once), see each with its
 * last use, revoke one. A workspace admin sees and issues tokens of its own
 * workspaces; the whole instance is an instance admin's choice.
 */
export function WorkerTokensSection() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const { canAct } = useSession();
  const tokens = useQuery(trpc.workers.listTokens.queryOptions({}, { enabled: canAct }));
  if (!canAct) return null;
  return (
    <Section id="worker-tokens" title={t("workerTokens.title")}>
      <p className="muted">{t("workerTokens.intro")}</p>
      <QueryView query={tokens} isEmpty={(list) => list.length === 0} empty={t("workerTokens.empty")}>
        {(list) => <TokenTable tokens={list} />}
      </QueryView>
      <IssueToken />
    </Section>
  );
}

function TokenTable({ tokens }: { tokens: TWorkerCredential[] }) {
  const { t, lang } = useI18n();
  return (
    <div className="table-wrap">
      <table>
        <thead>
          <tr>
            <th scope="col">{t("workerTokens.workerId")}</th>
            <th scope="col">{t("workerTokens.label")}</th>
            <th scope="col">{t("workerTokens.pool")}</th>
            <th scope="col">{t("workerTokens.created")}</th>
            <th scope="col">{t("workerTokens.lastUsed")}</th>
            <th scope="col">
              <span className="sr-only">{t("workerTokens.revoke")}</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {tokens.map((token) => (
            <tr key={token.id} data-testid={`worker-token-${token.id}`}>
              <td className="mono">{token.worker_id}</td>
              <td>{token.label || t("common.none")}</td>
              <td>{poolText(token.workspace_ids, t)}</td>
              <td>{t("workerTokens.createdBy", { when: formatDateTime(token.created_at, lang), by: token.created_by })}</td>
              <td>{token.last_used_at ? formatDateTime(token.last_used_at, lang) : t("workerTokens.neverUsed")}</td>
              <td>
                <RevokeToken token={token} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

function poolText(ids: number[] | null, t: ReturnType<typeof useI18n>["t"]): string {
  return ids === null ? t("workerTokens.wholeInstance") : t("workerTokens.workspaces", { list: ids.join(", ") });
}

function RevokeToken({ token }: { token: TWorkerCredential }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const [confirming, setConfirming] = useState(false);
  const revoke = useMutation(
    trpc.workers.revokeToken.mutationOptions({
      onSuccess: () => {
        setConfirming(false);
        void queryClient.invalidateQueries(trpc.workers.pathFilter());
      },
    }),
  );
  return (
    <>
      {confirming ? (
        <Confirm
          title={t("workerTokens.revokeConfirm", { worker: token.worker_id })}
          confirmLabel={t("workerTokens.revoke")}
          onConfirm={() => revoke.mutate({ id: token.id })}
          onCancel={() => setConfirming(false)}
          busy={revoke.isPending}
        />
      ) : (
        <button type="button" className="btn btn-danger" onClick={() => setConfirming(true)}>
          {t("workerTokens.revoke")}
        </button>
      )}
      {revoke.error ? <ErrorBox error={revoke.error} /> : null}
    </>
  );
}

function IssueToken() {
  const { t } = useI18n();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { isInstanceAdmin, workspaceId } = useSession();
  const workspaces = useQuery(trpc.workspaces.list.queryOptions({}));
  const [workerId, setWorkerId] = useState("");
  const [label, setLabel] = useState("");
  const [wholeInstance, setWholeInstance] = useState(false);
  const [pool, setPool] = useState<number[]>([workspaceId]);
  const [issued, setIssued] = useState<{ token: string; workerId: string } | null>(null);
  const [copied, setCopied] = useState(false);
  const issue = useMutation(
    trpc.workers.issueToken.mutationOptions({
      gcTime: 0,
      onSuccess: ({ token, credential }) => {
        setIssued({ token, workerId: credential.worker_id });
        setCopied(false);
        setWorkerId("");
        setLabel("");
        void queryClient.invalidateQueries(trpc.workers.pathFilter());
      },
    }),
  );
  const mine = (workspaces.data ?? []).filter((w) => isInstanceAdmin || w.role === "admin");
  const validId = isWorkerId(workerId);
  const ready = validId && (wholeInstance || pool.length > 0);
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!ready) return;
    issue.mutate({ worker_id: workerId, label: label.trim() || undefined, workspace_ids: wholeInstance ? null : pool });
  };
  const toggle = (id: number, on: boolean) => setPool((current) => (on ? [...new Set([...current, id])] : current.filter((x) => x !== id)));

  if (issued) {
    return (
      <div className="token-once" role="status">
        <label className="field">
          <span>{t("workerTokens.newToken", { worker: issued.workerId })}</span>
          <input readOnly className="mono" value={issued.token} onFocus={(e) => e.target.select()} data-testid="new-worker-token" />
        </label>
        <div className="row">
          <button
            type="button"
            className="btn"
            onClick={() => void navigator.clipboard?.writeText(issued.token).then(() => setCopied(true), () => setCopied(false))}
          >
            {copied ? t("workerTokens.copied") : t("workerTokens.copy")}
          </button>
          <button
            type="button"
            className="btn"
            onClick={() => {
              setIssued(null);
              issue.reset();
            }}
          >
            {t("settings.tokenDismiss")}
          </button>
        </div>
        <p className="muted small">{t("workerTokens.howToUse")}</p>
      </div>
    );
  }
  return (
    <form className="stack" onSubmit={submit} aria-labelledby="issue-worker-token">
      <h3 id="issue-worker-token">{t("workerTokens.issue")}</h3>
      <div className="row wrap">
        <WorkerIdField value={workerId} onChange={setWorkerId} />
        <label className="field">
          <span>{t("workerTokens.label")}</span>
          <input value={label} onChange={(e) => setLabel(e.target.value)} maxLength={200} />
        </label>
      </div>
      <fieldset className="field">
        <legend>{t("workerTokens.pool")}</legend>
        {isInstanceAdmin ? (
          <label className="inline-field">
            <input type="checkbox" checked={wholeInstance} onChange={(e) => setWholeInstance(e.target.checked)} />
            <span>{t("workerTokens.wholeInstance")}</span>
          </label>
        ) : null}
        {wholeInstance
          ? null
          : mine.map((w) => (
              <label key={w.id} className="inline-field">
                <input type="checkbox" checked={pool.includes(w.id)} onChange={(e) => toggle(w.id, e.target.checked)} />
                <span>
                  {w.name} (#{w.id})
                </span>
              </label>
            ))}
      </fieldset>
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={!ready || issue.isPending}>
          {t("workerTokens.issue")}
        </button>
      </div>
      {issue.error ? <ErrorBox error={issue.error} /> : null}
    </form>
  );
}

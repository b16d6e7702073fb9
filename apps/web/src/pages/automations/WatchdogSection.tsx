import { RECONCILE_MINUTES, type TReconcileCandidate, type THealth } from "@ops/contract";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { BlockedReason } from "../../components/Reason.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { formatAge } from "../../format.ts";
import { useT } from "../../i18n/index.tsx";
import { staleReasonLabel, statusLabel } from "../../i18n/words.ts";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC, useTRPCClient } from "../../trpc.ts";
import { useTaskInvalidation } from "../tasks/useTaskInvalidation.ts";
import { DispatchingTable } from "./DispatchingSection.tsx";
import { REFRESH_MS } from "./refresh.ts";

/** Parses the minutes field: digits only, at least one minute (0 would take back live work), as the API requires. */
export function parseMinutes(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text.trim())) return undefined;
  const minutes = Number(text.trim());
  return minutes >= RECONCILE_MINUTES.min && minutes <= RECONCILE_MINUTES.max ? minutes : undefined;
}

/** The manual watchdog: Reconciliar stale with the minutes shown, and what it reconciled. */
export function WatchdogSection({ health }: { health: THealth }) {
  const t = useT();
  const { canAct } = useSession();
  const stale = health.dispatching.filter((r) => r.stale);
  const threshold = health.thresholds.dispatch_stale_minutes;
  return (
    <Section id="watchdog" title={t("watchdog.title")}>
      <p className="muted">{t("watchdog.intro", { min: threshold })}</p>
      <p className={stale.length > 0 ? "pill pill-bad" : "pill pill-ok"}>{t("watchdog.staleNow", { n: health.queue.stale_dispatching })}</p>
      {stale.length > 0 ? <DispatchingTable rows={stale} /> : null}
      {canAct ? <ReconcileForm defaultMinutes={threshold} /> : null}
      <BlockedTasks />
    </Section>
  );
}

/** Runbook 3.1, step 4: review the task blockers before redispatching. */
function BlockedTasks() {
  const t = useT();
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  const blocked = useQuery(
    trpc.tasks.list.queryOptions({ workspace_id: workspaceId, blocked: true, limit: 10, offset: 0 }, { refetchInterval: REFRESH_MS }),
  );
  return (
    <div className="blocked-list">
      <h3>{t("watchdog.blocked")}</h3>
      <QueryView query={blocked} isEmpty={(d) => d.tasks.length === 0} empty={t("watchdog.noBlocked")}>
        {(d) => (
          <ul className="plain-list">
            {d.tasks.map((task) => (
              <li key={task.id} className="entry entry-blocker">
                <Link to={taskPath(task.id)}>
                  #{task.id} {task.title}
                </Link>{" "}
                <span className="muted small">
                  {statusLabel(t, task.status)} · <BlockedReason reason={task.blocked_reason} />
                </span>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </div>
  );
}

/**
 * Reconciliar stale in two steps: what the pass would take back with these
 * minutes (the API's preview, tasks of live workers flagged), then the
 * operator confirms exactly those tasks. Cancel has the focus.
 */
function ReconcileForm({ defaultMinutes }: { defaultMinutes: number }) {
  const t = useT();
  const client = useTRPCClient();
  const trpc = useTRPC();
  // Reconciled tasks gain a blocker entry, an alert and a new status: refresh all of it.
  const invalidate = useTaskInvalidation();
  const [edited, setEdited] = useState<string | undefined>(undefined);
  const text = edited ?? String(defaultMinutes);
  const minutes = parseMinutes(text);
  const preview = useMutation({
    mutationFn: (m: number) => client.dispatch.reconcilePreview.query({ minutes: m }),
  });
  const reconcile = useMutation(
    trpc.dispatch.reconcileStale.mutationOptions({
      onSuccess: () => {
        preview.reset();
        invalidate();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    reconcile.reset();
    if (minutes !== undefined) preview.mutate(minutes);
  };
  const candidates = preview.data?.tasks;
  const result = reconcile.data;
  return (
    <form className="reconcile" onSubmit={submit}>
      <div className="row">
        <label className="inline-field">
          <span>{t("watchdog.minutes")}</span>
          <input
            name="minutes"
            inputMode="numeric"
            className="input-narrow"
            value={text}
            onChange={(e) => {
              setEdited(e.target.value);
              preview.reset();
            }}
            aria-invalid={minutes === undefined}
            aria-describedby={minutes === undefined ? "minutes-error" : undefined}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={minutes === undefined || preview.isPending || reconcile.isPending || Boolean(candidates?.length)}>
          {preview.isPending ? t("watchdog.checking") : t("watchdog.run")}
        </button>
      </div>
      {minutes === undefined ? (
        <p id="minutes-error" className="field-error">
          {t("watchdog.invalidMinutes", { min: RECONCILE_MINUTES.min, max: RECONCILE_MINUTES.max })}
        </p>
      ) : null}
      {preview.error ? <ErrorBox error={preview.error} /> : null}
      {reconcile.error ? <ErrorBox error={reconcile.error} /> : null}
      {candidates && candidates.length === 0 ? (
        <p className="result" role="status" data-testid="reconcile-result">
          {t("watchdog.previewEmpty", { min: preview.data!.stale_minutes })}
        </p>
      ) : null}
      {candidates && candidates.length > 0 ? (
        <Confirm
          title={t("watchdog.previewTitle", { n: candidates.length, min: preview.data!.stale_minutes })}
          confirmLabel={t("watchdog.confirm", { n: candidates.length })}
          onConfirm={() => reconcile.mutate({ minutes: preview.data!.stale_minutes, task_ids: candidates.map((c) => c.task_id) })}
          onCancel={() => preview.reset()}
          busy={reconcile.isPending}
        >
          <ul className="plain-list" data-testid="reconcile-preview">
            {candidates.map((c) => (
              <Candidate key={c.task_id} candidate={c} />
            ))}
          </ul>
        </Confirm>
      ) : null}
      {result ? (
        <div className="result" role="status" data-testid="reconcile-result">
          <p>{t("watchdog.result", { n: result.reconciled, min: result.stale_minutes })}</p>
          {result.task_ids.length > 0 ? (
            <>
              <p>
                {t("watchdog.resultIds")}{" "}
                {result.task_ids.map((id, i) => (
                  <span key={id}>
                    {i > 0 ? ", " : ""}
                    <Link to={taskPath(id)}>#{id}</Link>
                  </span>
                ))}
              </p>
              <p className="muted">{t("watchdog.resultHint")}</p>
            </>
          ) : null}
        </div>
      ) : null}
    </form>
  );
}

function Candidate({ candidate: c }: { candidate: TReconcileCandidate }) {
  const t = useT();
  return (
    <li className={c.worker_fresh ? "candidate candidate-live" : "candidate"}>
      <Link to={taskPath(c.task_id)}>
        #{c.task_id} {c.title}
      </Link>{" "}
      <span className="muted small">
        {statusLabel(t, c.status)} · {c.claimed_by ?? t("common.none")} · {formatAge(c.age_seconds)} · {staleReasonLabel(t, c.reason)}
      </span>
      {c.worker_fresh ? <strong className="warn-text"> — {t("watchdog.liveWorker")}</strong> : null}
    </li>
  );
}

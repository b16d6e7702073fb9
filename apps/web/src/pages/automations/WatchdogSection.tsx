import { type THealth, ZReconcileMinutes } from "@ops/contract";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { useT } from "../../i18n/index.tsx";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { useTaskInvalidation } from "../tasks/useTaskInvalidation.ts";
import { DispatchingTable } from "./DispatchingSection.tsx";
import { REFRESH_MS } from "./refresh.ts";

/** Parses the minutes field: digits only, in the range dispatch.reconcileStale accepts. */
export function parseMinutes(text: string): number | undefined {
  if (!/^\d{1,5}$/.test(text.trim())) return undefined;
  const minutes = ZReconcileMinutes.safeParse(Number(text.trim()));
  return minutes.success ? minutes.data : undefined;
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
                  {task.status} · {task.blocked_reason ?? ""}
                </span>
              </li>
            ))}
          </ul>
        )}
      </QueryView>
    </div>
  );
}

function ReconcileForm({ defaultMinutes }: { defaultMinutes: number }) {
  const t = useT();
  const trpc = useTRPC();
  // Reconciled tasks gain a blocker entry, an alert and a new status: refresh all of it.
  const invalidate = useTaskInvalidation();
  const [edited, setEdited] = useState<string | undefined>(undefined);
  const text = edited ?? String(defaultMinutes);
  const minutes = parseMinutes(text);
  const reconcile = useMutation(
    trpc.dispatch.reconcileStale.mutationOptions({ onSuccess: invalidate }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (minutes !== undefined) reconcile.mutate({ minutes });
  };
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
            onChange={(e) => setEdited(e.target.value)}
            aria-invalid={minutes === undefined}
            aria-describedby={minutes === undefined ? "minutes-error" : undefined}
          />
        </label>
        <button type="submit" className="btn btn-primary" disabled={minutes === undefined || reconcile.isPending}>
          {reconcile.isPending ? t("watchdog.running") : t("watchdog.run")}
        </button>
      </div>
      {minutes === undefined ? (
        <p id="minutes-error" className="field-error">
          {t("watchdog.invalidMinutes")}
        </p>
      ) : null}
      {reconcile.error ? <ErrorBox error={reconcile.error} /> : null}
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

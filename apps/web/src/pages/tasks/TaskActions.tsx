import { CANCELLABLE_STATUSES, DISPATCHABLE_STATUSES, isStatusIn, type TTask, type TTaskStatus } from "@ops/contract";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox } from "../../components/States.tsx";
import { errorCode } from "../../errors.ts";
import { useT } from "../../i18n/index.tsx";
import { statusLabel } from "../../i18n/words.ts";
import { PATHS } from "../../paths.ts";
import { navigate } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { PICKABLE_STATUSES, suggestedStatus } from "./live.ts";
import { useTaskInvalidation } from "./useTaskInvalidation.ts";

/**
 * What can be done with the task now. The primary action follows its state:
 * Approve while the Human Gate holds it, Dispatch when it can be queued,
 * Close when it is in review; a manual task says why it has no Dispatch.
 */
export function TaskActions({ task }: { task: TTask }) {
  const t = useT();
  const trpc = useTRPC();
  const { canAct } = useSession();
  const invalidate = useTaskInvalidation();
  const options = { onSettled: invalidate };
  const dispatch = useMutation(trpc.tasks.dispatch.mutationOptions(options));
  const approve = useMutation(trpc.tasks.approve.mutationOptions(options));
  const cancel = useMutation(trpc.tasks.cancel.mutationOptions(options));
  const archive = useMutation(trpc.tasks.archive.mutationOptions(options));
  const makeInteractive = useMutation(trpc.tasks.update.mutationOptions(options));
  const setTaskStatus = useMutation(trpc.tasks.setStatus.mutationOptions(options));
  const remove = useMutation(
    trpc.tasks.delete.mutationOptions({
      onSuccess: () => {
        invalidate();
        navigate(PATHS.tareas);
      },
    }),
  );
  const [confirmDelete, setConfirmDelete] = useState(false);
  // Keyed by status: the picker starts again from the task's new status after a change.
  const [picked, setPicked] = useState<{ from: TTaskStatus; status: TTaskStatus }>({ from: task.status, status: suggestedStatus(task.status) });
  const status = picked.from === task.status ? picked.status : suggestedStatus(task.status);
  const moveTo = (next: TTaskStatus, force = false) => {
    setPicked({ from: task.status, status: next });
    setTaskStatus.mutate({ id: task.id, status: next, ...(force ? { force: true } : {}) });
  };
  const needsApproval = task.sensitive && !task.approved_at;
  const interactive = task.execution === "interactive";
  const dispatchable = interactive && isStatusIn(DISPATCHABLE_STATUSES, task.status) && !task.archived;
  // A live dispatch (queued or in flight) is offered Cancel, not Archive or Delete.
  const cancellable = isStatusIn(CANCELLABLE_STATUSES, task.status);
  const approveFirst = canAct && needsApproval && dispatchable;
  const error = dispatch.error ?? approve.error ?? cancel.error ?? archive.error ?? makeInteractive.error ?? remove.error;
  return (
    <Section id="actions" title={t("task.actions")}>
      {approveFirst ? <p className="note">{t("task.awaitingApproval")}</p> : null}
      {!interactive && !task.archived ? (
        <div className="note" data-testid="manual-note">
          <p>{t("task.manual")}</p>
          <button type="button" className="btn btn-small" onClick={() => makeInteractive.mutate({ id: task.id, execution: "interactive" })} disabled={makeInteractive.isPending}>
            {t("task.makeInteractive")}
          </button>
        </div>
      ) : null}
      <div className="row wrap">
        {approveFirst ? (
          <button type="button" className="btn btn-primary" onClick={() => approve.mutate({ id: task.id })} disabled={approve.isPending}>
            {t("task.approve")}
          </button>
        ) : null}
        {task.status === "review" ? (
          <button type="button" className="btn btn-primary" onClick={() => moveTo("done")} disabled={setTaskStatus.isPending}>
            {t("task.close")}
          </button>
        ) : null}
        {dispatchable ? (
          <button
            type="button"
            className={approveFirst || task.status === "review" ? "btn" : "btn btn-primary"}
            onClick={() => dispatch.mutate({ id: task.id })}
            disabled={dispatch.isPending}
          >
            {t("task.dispatch")}
          </button>
        ) : null}
        {canAct && needsApproval && !approveFirst ? (
          <button type="button" className="btn" onClick={() => approve.mutate({ id: task.id })} disabled={approve.isPending}>
            {t("task.approve")}
          </button>
        ) : null}
        {canAct && cancellable ? (
          <button type="button" className="btn btn-danger" onClick={() => cancel.mutate({ id: task.id })} disabled={cancel.isPending}>
            {t("task.cancel")}
          </button>
        ) : null}
        {!task.archived && !cancellable ? (
          <button type="button" className="btn" onClick={() => archive.mutate({ id: task.id })} disabled={archive.isPending}>
            {t("task.archive")}
          </button>
        ) : null}
        {canAct && !cancellable ? (
          <button type="button" className="btn" onClick={() => setConfirmDelete(true)} disabled={remove.isPending || confirmDelete}>
            {t("task.delete")}
          </button>
        ) : null}
      </div>
      {confirmDelete ? (
        <Confirm
          title={t("task.deleteConfirm")}
          confirmLabel={t("task.delete")}
          onConfirm={() => remove.mutate({ id: task.id })}
          onCancel={() => setConfirmDelete(false)}
          busy={remove.isPending}
        />
      ) : null}
      {dispatch.isSuccess && task.status === "queued" ? (
        <p className="ok-text" role="status">
          {t("task.dispatched")}
        </p>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      <StatusChanger
        task={task}
        status={status}
        onPick={(next) => {
          setPicked({ from: task.status, status: next });
          setTaskStatus.reset();
        }}
        onApply={(force) => moveTo(status, force)}
        pending={setTaskStatus.isPending}
        error={setTaskStatus.error}
      />
    </Section>
  );
}

function StatusChanger({
  task,
  status,
  onPick,
  onApply,
  pending,
  error,
}: {
  task: TTask;
  status: TTaskStatus;
  onPick(status: TTaskStatus): void;
  onApply(force: boolean): void;
  pending: boolean;
  error: unknown;
}) {
  const t = useT();
  const { canAct } = useSession();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    onApply(false);
  };
  const refusedByGuard = error && errorCode(error) === "DONE_GUARD";
  return (
    <form className="status-changer" onSubmit={submit} aria-label={t("task.changeStatus")}>
      <h3>{t("task.changeStatus")}</h3>
      <div className="row">
        <label className="inline-field">
          <span>{t("task.newStatus")}</span>
          <select name="status" value={status} onChange={(e) => onPick(e.target.value as TTaskStatus)}>
            {PICKABLE_STATUSES.filter((s) => s !== task.status).map((s) => (
              <option key={s} value={s}>
                {statusLabel(t, s)}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn" disabled={pending}>
          {t("task.apply")}
        </button>
      </div>
      {error ? (
        <ErrorBox error={error}>
          {refusedByGuard && canAct ? (
            <>
              <p className="muted">{t("task.forceHint")}</p>
              <button type="button" className="btn btn-danger" onClick={() => onApply(true)} disabled={pending}>
                {t("task.force")}
              </button>
            </>
          ) : null}
        </ErrorBox>
      ) : null}
    </form>
  );
}

import {
  CANCELLABLE_STATUSES,
  DISPATCHABLE_STATUSES,
  isStatusIn,
  TASK_STATUSES,
  type TTask,
  type TTaskStatus,
} from "@ops/contract";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Confirm } from "../../components/Confirm.tsx";
import { Section } from "../../components/Section.tsx";
import { ErrorBox } from "../../components/States.tsx";
import { errorCode } from "../../errors.ts";
import { useT } from "../../i18n/index.tsx";
import { PATHS } from "../../paths.ts";
import { navigate } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { useTaskInvalidation } from "./useTaskInvalidation.ts";

/** Dispatch, Human Gate approval, cancel, unblock, archive, and status changes. */
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
  const unblock = useMutation(trpc.tasks.update.mutationOptions(options));
  const remove = useMutation(
    trpc.tasks.delete.mutationOptions({
      onSuccess: () => {
        invalidate();
        navigate(PATHS.tareas);
      },
    }),
  );
  const [confirmDelete, setConfirmDelete] = useState(false);
  const needsApproval = task.sensitive && !task.approved_at;
  // A live dispatch (queued or in flight) is offered Cancel, not Archive or Delete.
  const cancellable = isStatusIn(CANCELLABLE_STATUSES, task.status);
  const error = dispatch.error ?? approve.error ?? cancel.error ?? archive.error ?? unblock.error ?? remove.error;
  return (
    <Section id="actions" title={t("task.actions")}>
      <div className="row wrap">
        {task.execution === "interactive" && isStatusIn(DISPATCHABLE_STATUSES, task.status) ? (
          <button type="button" className="btn btn-primary" onClick={() => dispatch.mutate({ id: task.id })} disabled={dispatch.isPending}>
            {t("task.dispatch")}
          </button>
        ) : null}
        {canAct && needsApproval ? (
          <button type="button" className="btn" onClick={() => approve.mutate({ id: task.id })} disabled={approve.isPending}>
            {t("task.approve")}
          </button>
        ) : null}
        {task.blocked ? (
          <button
            type="button"
            className="btn"
            onClick={() => unblock.mutate({ id: task.id, blocked: false, blocked_reason: null })}
            disabled={unblock.isPending}
          >
            {t("task.unblock")}
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
      {/* Keyed by status: the picker starts again from the task's new status after a change. */}
      <StatusChanger key={task.status} task={task} />
    </Section>
  );
}

function StatusChanger({ task }: { task: TTask }) {
  const t = useT();
  const trpc = useTRPC();
  const { canAct } = useSession();
  const invalidate = useTaskInvalidation();
  const [status, setStatus] = useState<TTaskStatus>(task.status === "done" ? "review" : "done");
  const setTaskStatus = useMutation(trpc.tasks.setStatus.mutationOptions({ onSettled: invalidate }));
  const submit = (event: FormEvent) => {
    event.preventDefault();
    setTaskStatus.mutate({ id: task.id, status });
  };
  const refusedByGuard = setTaskStatus.error && errorCode(setTaskStatus.error) === "DONE_GUARD";
  return (
    <form className="status-changer" onSubmit={submit} aria-label={t("task.changeStatus")}>
      <h3>{t("task.changeStatus")}</h3>
      <div className="row">
        <label className="inline-field">
          <span>{t("task.newStatus")}</span>
          <select
            name="status"
            value={status}
            onChange={(e) => {
              setStatus(e.target.value as TTaskStatus);
              setTaskStatus.reset();
            }}
          >
            {TASK_STATUSES.filter((s) => s !== task.status).map((s) => (
              <option key={s} value={s}>
                {s}
              </option>
            ))}
          </select>
        </label>
        <button type="submit" className="btn" disabled={setTaskStatus.isPending}>
          {t("task.apply")}
        </button>
      </div>
      {setTaskStatus.error ? (
        <ErrorBox error={setTaskStatus.error}>
          {refusedByGuard && canAct ? (
            <>
              <p className="muted">{t("task.forceHint")}</p>
              <button
                type="button"
                className="btn btn-danger"
                onClick={() => setTaskStatus.mutate({ id: task.id, status, force: true })}
                disabled={setTaskStatus.isPending}
              >
                {t("task.force")}
              </button>
            </>
          ) : null}
        </ErrorBox>
      ) : null}
    </form>
  );
}

import type { TTask } from "@ops/contract";
import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorBox } from "../../components/States.tsx";
import { errorField } from "../../errors.ts";
import { useT } from "../../i18n/index.tsx";
import { useTRPC } from "../../trpc.ts";
import { TaskFields, type TaskFieldValues, taskFieldsOf, toTaskInput } from "./TaskFields.tsx";
import { useTaskInvalidation } from "./useTaskInvalidation.ts";

/** Edit the task's fields (the same set the create form has). */
export function TaskEditForm({ task }: { task: TTask }) {
  const t = useT();
  const [open, setOpen] = useState(false);
  return (
    <section className="card">
      <button type="button" className="btn" aria-expanded={open} onClick={() => setOpen(!open)}>
        {t("task.edit")}
      </button>
      {open ? <EditFields task={task} onDone={() => setOpen(false)} /> : null}
    </section>
  );
}

function EditFields({ task, onDone }: { task: TTask; onDone(): void }) {
  const t = useT();
  const trpc = useTRPC();
  const invalidate = useTaskInvalidation();
  const [fields, setFields] = useState<TaskFieldValues>(() => taskFieldsOf(task));
  const update = useMutation(
    trpc.tasks.update.mutationOptions({
      onSuccess: () => {
        invalidate();
        onDone();
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    update.mutate({ id: task.id, ...toTaskInput(fields) });
  };
  return (
    <form className="form" onSubmit={submit}>
      <TaskFields value={fields} onChange={setFields} invalidField={update.error ? errorField(update.error) : undefined} />
      {update.error ? <ErrorBox error={update.error} /> : null}
      <div className="row">
        <button type="submit" className="btn btn-primary" disabled={update.isPending}>
          {update.isPending ? t("common.saving") : t("common.save")}
        </button>
        <button type="button" className="btn" onClick={onDone}>
          {t("common.cancel")}
        </button>
      </div>
    </form>
  );
}

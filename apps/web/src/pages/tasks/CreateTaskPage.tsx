import { INITIAL_TASK_STATUSES, type TInitialTaskStatus } from "@ops/contract";
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorBox } from "../../components/States.tsx";
import { errorField } from "../../errors.ts";
import { useT } from "../../i18n/index.tsx";
import { statusLabel } from "../../i18n/words.ts";
import { PATHS, taskPath } from "../../paths.ts";
import { Link, navigate } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";
import { EMPTY_TASK_FIELDS, TaskFields, type TaskFieldValues, toTaskInput } from "./TaskFields.tsx";

export function CreateTaskPage() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { workspaceId } = useSession();
  const [fields, setFields] = useState<TaskFieldValues>(EMPTY_TASK_FIELDS);
  const [status, setStatus] = useState<TInitialTaskStatus>("backlog");
  const create = useMutation(
    trpc.tasks.create.mutationOptions({
      onSuccess: (task) => {
        void queryClient.invalidateQueries(trpc.tasks.pathFilter());
        navigate(taskPath(task.id));
      },
    }),
  );
  const submit = (event: FormEvent) => {
    event.preventDefault();
    create.mutate({ workspace_id: workspaceId, ...toTaskInput(fields), status });
  };
  const field = create.error ? errorField(create.error) : undefined;
  return (
    <>
      <div className="page-head">
        <div>
          <Link to={PATHS.tareas}>{t("task.back")}</Link>
          <h1>{t("create.title")}</h1>
        </div>
      </div>
      <form className="card form" onSubmit={submit}>
        <TaskFields
          value={fields}
          onChange={setFields}
          invalidField={field}
          extra={
            <label className="field">
              <span>{t("create.initialStatus")}</span>
              <select name="status" value={status} onChange={(e) => setStatus(e.target.value as TInitialTaskStatus)}>
                {INITIAL_TASK_STATUSES.map((s) => (
                  <option key={s} value={s}>
                    {statusLabel(t, s)}
                  </option>
                ))}
              </select>
            </label>
          }
        />
        {create.error ? <ErrorBox error={create.error} /> : null}
        <div className="row">
          <button type="submit" className="btn btn-primary" disabled={create.isPending}>
            {create.isPending ? t("common.saving") : t("create.submit")}
          </button>
        </div>
      </form>
    </>
  );
}

import { useMutation } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import type { Task } from "../../api-types.ts";
import { ErrorBox } from "../../components/States.tsx";
import { useAgents } from "../../hooks.ts";
import { useT } from "../../i18n.tsx";
import { useTRPC } from "../../trpc.ts";
import { useTaskInvalidation } from "./useTaskMutation.ts";

/** Edit description, agent, model, priority and the sensitive flag. */
export function TaskEditForm({ task }: { task: Task }) {
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

function EditFields({ task, onDone }: { task: Task; onDone(): void }) {
  const t = useT();
  const trpc = useTRPC();
  const agents = useAgents();
  const invalidate = useTaskInvalidation();
  const [title, setTitle] = useState(task.title);
  const [description, setDescription] = useState(task.description);
  const [execution, setExecution] = useState(task.execution);
  const [agentId, setAgentId] = useState(task.agent_id ? String(task.agent_id) : "");
  const [model, setModel] = useState(task.model ?? "");
  const [priority, setPriority] = useState(String(task.priority));
  const [sensitive, setSensitive] = useState(task.sensitive);
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
    update.mutate({
      id: task.id,
      title,
      description,
      execution,
      agent_id: agentId ? Number(agentId) : null,
      model: model.trim() || null,
      priority: Number(priority) || 0,
      sensitive,
    });
  };
  return (
    <form className="form" onSubmit={submit}>
      <label className="field">
        <span>{t("create.titleField")}</span>
        <input required value={title} onChange={(e) => setTitle(e.target.value)} />
      </label>
      <label className="field">
        <span>{t("create.description")}</span>
        <textarea rows={5} value={description} onChange={(e) => setDescription(e.target.value)} />
      </label>
      <div className="form-row">
        <label className="field">
          <span>{t("create.execution")}</span>
          <select value={execution} onChange={(e) => setExecution(e.target.value as Task["execution"])}>
            <option value="interactive">interactive</option>
            <option value="manual">manual</option>
          </select>
        </label>
        <label className="field">
          <span>{t("create.agent")}</span>
          <select value={agentId} onChange={(e) => setAgentId(e.target.value)}>
            <option value="">{t("tasks.noAgent")}</option>
            {(agents.data ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.slug}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t("create.model")}</span>
          <input value={model} onChange={(e) => setModel(e.target.value)} />
        </label>
        <label className="field">
          <span>{t("create.priority")}</span>
          <input type="number" min={-1000} max={1000} value={priority} onChange={(e) => setPriority(e.target.value)} />
        </label>
      </div>
      <label className="check">
        <input type="checkbox" checked={sensitive} onChange={(e) => setSensitive(e.target.checked)} />
        <span>{t("create.sensitive")}</span>
      </label>
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

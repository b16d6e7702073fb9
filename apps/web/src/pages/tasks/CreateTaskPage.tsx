import { useMutation, useQueryClient } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { ErrorBox } from "../../components/States.tsx";
import { errorField } from "../../errors.ts";
import { useAgents } from "../../hooks.ts";
import { useT } from "../../i18n.tsx";
import { PATHS, taskPath } from "../../paths.ts";
import { Link, navigate } from "../../router.tsx";
import { useSession } from "../../session.tsx";
import { useTRPC } from "../../trpc.ts";

export function CreateTaskPage() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const agents = useAgents();
  const { workspaceId } = useSession();
  const [title, setTitle] = useState("");
  const [description, setDescription] = useState("");
  const [execution, setExecution] = useState<"interactive" | "manual">("interactive");
  const [agentId, setAgentId] = useState("");
  const [model, setModel] = useState("");
  const [priority, setPriority] = useState("0");
  const [sensitive, setSensitive] = useState(false);
  const [workingDir, setWorkingDir] = useState("");
  const [status, setStatus] = useState<"backlog" | "next">("backlog");
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
    create.mutate({
      workspace_id: workspaceId,
      title,
      description,
      execution,
      agent_id: agentId ? Number(agentId) : null,
      model: model.trim() || null,
      priority: Number(priority) || 0,
      sensitive,
      working_dir: workingDir.trim() || null,
      status,
    });
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
        <label className="field">
          <span>{t("create.titleField")}</span>
          <input name="title" required maxLength={500} value={title} onChange={(e) => setTitle(e.target.value)} aria-invalid={field === "title"} />
        </label>
        <label className="field">
          <span>{t("create.description")}</span>
          <textarea name="description" rows={5} value={description} onChange={(e) => setDescription(e.target.value)} />
        </label>
        <div className="form-row">
          <label className="field">
            <span>{t("create.execution")}</span>
            <select name="execution" value={execution} onChange={(e) => setExecution(e.target.value as "interactive" | "manual")}>
              <option value="interactive">interactive</option>
              <option value="manual">manual</option>
            </select>
          </label>
          <label className="field">
            <span>{t("create.agent")}</span>
            <select name="agent" value={agentId} onChange={(e) => setAgentId(e.target.value)}>
              <option value="">{t("tasks.noAgent")}</option>
              {(agents.data ?? []).map((a) => (
                <option key={a.id} value={a.id}>
                  {a.slug}
                  {a.active ? "" : " (inactive)"}
                </option>
              ))}
            </select>
          </label>
          <label className="field">
            <span>{t("create.model")}</span>
            <input name="model" value={model} onChange={(e) => setModel(e.target.value)} aria-describedby="model-hint" aria-invalid={field === "model"} />
            <small id="model-hint" className="muted">
              {t("create.modelHint")}
            </small>
          </label>
          <label className="field">
            <span>{t("create.priority")}</span>
            <input name="priority" type="number" min={-1000} max={1000} value={priority} onChange={(e) => setPriority(e.target.value)} />
          </label>
          <label className="field">
            <span>{t("create.initialStatus")}</span>
            <select name="status" value={status} onChange={(e) => setStatus(e.target.value as "backlog" | "next")}>
              <option value="backlog">backlog</option>
              <option value="next">next</option>
            </select>
          </label>
        </div>
        <label className="field">
          <span>{t("create.workingDir")}</span>
          <input name="working_dir" value={workingDir} onChange={(e) => setWorkingDir(e.target.value)} />
        </label>
        <label className="check">
          <input type="checkbox" name="sensitive" checked={sensitive} onChange={(e) => setSensitive(e.target.checked)} />
          <span>{t("create.sensitive")}</span>
        </label>
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

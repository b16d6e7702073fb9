import { TASK_PRIORITY_RANGE, TASK_TITLE_MAX_LENGTH, type TExecution, type TTask } from "@ops/contract";
import type { ReactNode } from "react";
import { useAgents } from "../../hooks.ts";
import { useT } from "../../i18n/index.tsx";
import { executionLabel } from "../../i18n/words.ts";

/** The task fields as the form holds them (strings while typing). */
export interface TaskFieldValues {
  title: string;
  description: string;
  execution: TExecution;
  agentId: string;
  model: string;
  priority: string;
  workingDir: string;
  sensitive: boolean;
}

export const EMPTY_TASK_FIELDS: TaskFieldValues = {
  title: "",
  description: "",
  execution: "interactive",
  agentId: "",
  model: "",
  priority: "0",
  workingDir: "",
  sensitive: false,
};

export const taskFieldsOf = (task: TTask): TaskFieldValues => ({
  title: task.title,
  description: task.description,
  execution: task.execution,
  agentId: task.agent_id ? String(task.agent_id) : "",
  model: task.model ?? "",
  priority: String(task.priority),
  workingDir: task.working_dir ?? "",
  sensitive: task.sensitive,
});

/** The fields as tasks.create and tasks.update take them. */
export const toTaskInput = (v: TaskFieldValues) => ({
  title: v.title,
  description: v.description,
  execution: v.execution,
  agent_id: v.agentId ? Number(v.agentId) : null,
  model: v.model.trim() || null,
  priority: Number(v.priority) || 0,
  working_dir: v.workingDir.trim() || null,
  sensitive: v.sensitive,
});

/**
 * The fields shared by creating and editing a task, so the two forms cannot
 * drift apart. `extra` goes at the end of the row (the create form's status).
 */
export function TaskFields({
  value,
  onChange,
  invalidField,
  extra,
}: {
  value: TaskFieldValues;
  onChange(next: TaskFieldValues): void;
  invalidField?: string | undefined;
  extra?: ReactNode;
}) {
  const t = useT();
  const agents = useAgents();
  const set = (patch: Partial<TaskFieldValues>) => onChange({ ...value, ...patch });
  return (
    <>
      <label className="field">
        <span>{t("create.titleField")}</span>
        <input name="title" required maxLength={TASK_TITLE_MAX_LENGTH} value={value.title} onChange={(e) => set({ title: e.target.value })} aria-invalid={invalidField === "title"} />
      </label>
      <label className="field">
        <span>{t("create.description")}</span>
        <textarea name="description" rows={5} value={value.description} onChange={(e) => set({ description: e.target.value })} />
      </label>
      <div className="form-row">
        <label className="field">
          <span>{t("create.execution")}</span>
          <select name="execution" value={value.execution} onChange={(e) => set({ execution: e.target.value as TExecution })}>
            <option value="interactive">{executionLabel(t, "interactive")}</option>
            <option value="manual">{executionLabel(t, "manual")}</option>
          </select>
        </label>
        <label className="field">
          <span>{t("create.agent")}</span>
          <select name="agent" value={value.agentId} onChange={(e) => set({ agentId: e.target.value })}>
            <option value="">{t("tasks.noAgent")}</option>
            {(agents.data ?? []).map((a) => (
              <option key={a.id} value={a.id}>
                {a.active ? a.slug : t("create.inactive", { slug: a.slug })}
              </option>
            ))}
          </select>
        </label>
        <label className="field">
          <span>{t("create.model")}</span>
          <input name="model" value={value.model} onChange={(e) => set({ model: e.target.value })} aria-invalid={invalidField === "model"} />
          <small className="muted">{t("create.modelHint")}</small>
        </label>
        <label className="field">
          <span>{t("create.priority")}</span>
          <input name="priority" type="number" min={TASK_PRIORITY_RANGE.min} max={TASK_PRIORITY_RANGE.max} value={value.priority} onChange={(e) => set({ priority: e.target.value })} />
        </label>
        {extra}
      </div>
      <label className="field">
        <span>{t("create.workingDir")}</span>
        <input name="working_dir" value={value.workingDir} onChange={(e) => set({ workingDir: e.target.value })} aria-invalid={invalidField === "working_dir"} />
      </label>
      <label className="check">
        <input type="checkbox" name="sensitive" checked={value.sensitive} onChange={(e) => set({ sensitive: e.target.checked })} />
        <span>{t("create.sensitive")}</span>
      </label>
    </>
  );
}

import { TASK_STATUSES, type TTaskStatus } from "@ops/contract";
import { useEffect, useState } from "react";
import { useAgents } from "../../hooks.ts";
import { useT } from "../../i18n/index.tsx";
import { statusLabel } from "../../i18n/words.ts";
import type { TaskFilterValues } from "./task-filters.ts";

export function TaskFilters({ value, onChange }: { value: TaskFilterValues; onChange(next: TaskFilterValues): void }) {
  const t = useT();
  const agents = useAgents();
  const [q, setQ] = useState(value.q);
  // The URL can change the search from outside (a nav link): follow it, or the
  // debounce below would put the old text back.
  const [seenQ, setSeenQ] = useState(value.q);
  if (value.q !== seenQ) {
    setSeenQ(value.q);
    setQ(value.q);
  }
  // Type freely; search once typing pauses.
  useEffect(() => {
    if (q === value.q) return;
    const timer = setTimeout(() => onChange({ ...value, q, page: 0 }), 300);
    return () => clearTimeout(timer);
  }, [q, value, onChange]);
  const set = (patch: Partial<TaskFilterValues>) => onChange({ ...value, ...patch, page: 0 });
  return (
    <form className="filters card" aria-label={t("tasks.filters")} onSubmit={(e) => e.preventDefault()}>
      <label className="field">
        <span>{t("tasks.status")}</span>
        <select value={value.status ?? ""} onChange={(e) => set({ status: (e.target.value || undefined) as TTaskStatus | undefined })}>
          <option value="">{t("common.all")}</option>
          {TASK_STATUSES.map((s) => (
            <option key={s} value={s}>
              {statusLabel(t, s)}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t("tasks.agent")}</span>
        <select value={value.agent ?? ""} onChange={(e) => set({ agent: Number(e.target.value) || undefined })}>
          <option value="">{t("common.all")}</option>
          {(agents.data ?? []).map((a) => (
            <option key={a.id} value={a.id}>
              {a.slug}
            </option>
          ))}
        </select>
      </label>
      <label className="field">
        <span>{t("tasks.blocked")}</span>
        <select
          value={value.blocked === undefined ? "" : String(value.blocked)}
          onChange={(e) => set({ blocked: e.target.value === "" ? undefined : e.target.value === "true" })}
        >
          <option value="">{t("common.any")}</option>
          <option value="true">{t("common.yes")}</option>
          <option value="false">{t("common.no")}</option>
        </select>
      </label>
      <label className="field field-grow">
        <span>{t("tasks.search")}</span>
        <input type="search" value={q} onChange={(e) => setQ(e.target.value)} />
      </label>
      <fieldset className="field segmented">
        <legend>{t("tasks.view")}</legend>
        <button type="button" className="btn" aria-pressed={value.view === "board"} onClick={() => onChange({ ...value, view: "board" })}>
          {t("tasks.board")}
        </button>
        <button type="button" className="btn" aria-pressed={value.view === "list"} onClick={() => onChange({ ...value, view: "list" })}>
          {t("tasks.list")}
        </button>
      </fieldset>
    </form>
  );
}

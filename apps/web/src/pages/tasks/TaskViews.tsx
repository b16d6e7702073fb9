import { TASK_STATUSES, type TTask, type TTaskStatus } from "@ops/contract";
import { BlockedBadge, PriorityBadge, SensitiveBadge, StatusBadge } from "../../components/Badges.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { statusLabel } from "../../i18n/words.ts";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";

/** Columns by status in one row that scrolls sideways (never wrapped into a second row); with a status filter, only that column. */
export function TaskBoard({ tasks, only }: { tasks: TTask[]; only: TTaskStatus | undefined }) {
  const { t } = useI18n();
  const statuses = only ? [only] : TASK_STATUSES;
  return (
    <div className="board">
      {statuses.map((status) => {
        // Highest priority first, as the queue takes them.
        const column = tasks.filter((task) => task.status === status).sort((a, b) => b.priority - a.priority || b.id - a.id);
        return (
          <section key={status} className="board-col" aria-label={statusLabel(t, status)} data-status={status}>
            <h2 className="board-title">
              <StatusBadge status={status} /> <span className="muted">{column.length}</span>
            </h2>
            <ul className="plain-list">
              {column.map((task) => (
                <li key={task.id} className="task-card">
                  <Link to={taskPath(task.id)}>
                    #{task.id} {task.title}
                  </Link>
                  <TaskMeta task={task} />
                </li>
              ))}
            </ul>
          </section>
        );
      })}
    </div>
  );
}

function TaskMeta({ task }: { task: TTask }) {
  const { t } = useI18n();
  return (
    <div className="task-meta">
      <PriorityBadge priority={task.priority} />
      <span className="muted">{task.agent_slug ?? t("tasks.noAgent")}</span>
      {task.model ? <span className="muted mono">{task.model}</span> : null}
      {task.blocked ? <BlockedBadge /> : null}
      {task.sensitive ? <SensitiveBadge /> : null}
    </div>
  );
}

export function TaskTable({ tasks }: { tasks: TTask[] }) {
  const { t, lang } = useI18n();
  return (
    <div className="table-wrap card">
      <table className="cards-narrow">
        <thead>
          <tr>
            <th scope="col">{t("tasks.colTitle")}</th>
            <th scope="col">{t("tasks.status")}</th>
            <th scope="col">{t("tasks.colPriority")}</th>
            <th scope="col">{t("tasks.agent")}</th>
            <th scope="col">{t("tasks.colUpdated")}</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.id}>
              <td data-label={t("tasks.colTitle")}>
                <Link to={taskPath(task.id)}>
                  #{task.id} {task.title}
                </Link>{" "}
                {task.blocked ? <BlockedBadge /> : null}
                {task.sensitive ? <SensitiveBadge /> : null}
              </td>
              <td data-label={t("tasks.status")}>
                <StatusBadge status={task.status} />
              </td>
              <td className="num" data-label={t("tasks.colPriority")}>
                {task.priority}
              </td>
              <td data-label={t("tasks.agent")}>
                {task.agent_slug ?? t("tasks.noAgent")}
                {task.model ? <span className="muted mono"> · {task.model}</span> : null}
              </td>
              <td data-label={t("tasks.colUpdated")}>{formatDateTime(task.updated_at, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

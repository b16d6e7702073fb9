import { TASK_STATUSES, type TTask, type TTaskStatus } from "@ops/contract";
import { BlockedBadge, SensitiveBadge, StatusBadge } from "../../components/Badges.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { taskPath } from "../../paths.ts";
import { Link } from "../../router.tsx";

/** Columns by status; with a status filter, only that column. */
export function TaskBoard({ tasks, only }: { tasks: TTask[]; only: TTaskStatus | undefined }) {
  const statuses = only ? [only] : TASK_STATUSES;
  return (
    <div className="board">
      {statuses.map((status) => {
        const column = tasks.filter((task) => task.status === status);
        return (
          <section key={status} className="board-col" aria-label={status}>
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
      <table>
        <thead>
          <tr>
            <th scope="col">{t("tasks.colTitle")}</th>
            <th scope="col">{t("tasks.status")}</th>
            <th scope="col">{t("tasks.agent")}</th>
            <th scope="col">{t("tasks.colUpdated")}</th>
          </tr>
        </thead>
        <tbody>
          {tasks.map((task) => (
            <tr key={task.id}>
              <td>
                <Link to={taskPath(task.id)}>
                  #{task.id} {task.title}
                </Link>{" "}
                {task.blocked ? <BlockedBadge /> : null}
                {task.sensitive ? <SensitiveBadge /> : null}
              </td>
              <td>
                <StatusBadge status={task.status} />
              </td>
              <td>
                {task.agent_slug ?? t("tasks.noAgent")}
                {task.model ? <span className="muted mono"> · {task.model}</span> : null}
              </td>
              <td>{formatDateTime(task.updated_at, lang)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

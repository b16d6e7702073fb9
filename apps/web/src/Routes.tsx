import { useEffect } from "react";
import { useT } from "./i18n/index.tsx";
import { PATHS } from "./paths.ts";
import { AgentsPage } from "./pages/AgentsPage.tsx";
import { AutomationsPage } from "./pages/automations/AutomationsPage.tsx";
import { SettingsPage } from "./pages/SettingsPage.tsx";
import { CreateTaskPage } from "./pages/tasks/CreateTaskPage.tsx";
import { TaskPage } from "./pages/tasks/TaskPage.tsx";
import { TasksPage } from "./pages/tasks/TasksPage.tsx";
import { Link, navigate, useLocation } from "./router.tsx";

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

export function Routes() {
  const { path } = useLocation();
  const t = useT();
  const clean = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (clean === "/" || clean === "/operacion") return <Redirect to={PATHS.automatizaciones} />;
  if (clean === PATHS.automatizaciones) return <AutomationsPage />;
  if (clean === PATHS.tareas) return <TasksPage />;
  if (clean === PATHS.nuevaTarea) return <CreateTaskPage />;
  const task = /^\/tareas\/(\d+)$/.exec(clean);
  if (task) return <TaskPage id={Number(task[1])} />;
  if (clean === PATHS.agentes) return <AgentsPage />;
  if (clean === PATHS.ajustes) return <SettingsPage />;
  return (
    <div className="card">
      <p>{t("common.notFound")}</p>
      <Link to={PATHS.automatizaciones}>{t("nav.automatizaciones")}</Link>
    </div>
  );
}

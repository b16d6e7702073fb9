import { lazy, type ReactNode, Suspense, useEffect } from "react";
import { Loading } from "./components/States.tsx";
import { useT } from "./i18n/index.tsx";
import { PATHS } from "./paths.ts";
import { Link, navigate, useLocation } from "./router.tsx";

// One chunk per page, fetched when it is first shown: the sign-in form and
// the shell paint without the code (and the contract's schemas) of pages the
// operator has not opened.
const AutomationsPage = lazy(() => import("./pages/automations/AutomationsPage.tsx").then((m) => ({ default: m.AutomationsPage })));
const SetupPage = lazy(() => import("./pages/setup/SetupPage.tsx").then((m) => ({ default: m.SetupPage })));
const TasksPage = lazy(() => import("./pages/tasks/TasksPage.tsx").then((m) => ({ default: m.TasksPage })));
const CreateTaskPage = lazy(() => import("./pages/tasks/CreateTaskPage.tsx").then((m) => ({ default: m.CreateTaskPage })));
const TaskPage = lazy(() => import("./pages/tasks/TaskPage.tsx").then((m) => ({ default: m.TaskPage })));
const AgentsPage = lazy(() => import("./pages/AgentsPage.tsx").then((m) => ({ default: m.AgentsPage })));
const PeoplePage = lazy(() => import("./pages/people/PeoplePage.tsx").then((m) => ({ default: m.PeoplePage })));
const SettingsPage = lazy(() => import("./pages/SettingsPage.tsx").then((m) => ({ default: m.SettingsPage })));
const AccountPage = lazy(() => import("./pages/AccountPage.tsx").then((m) => ({ default: m.AccountPage })));

function Redirect({ to }: { to: string }) {
  useEffect(() => navigate(to, { replace: true }), [to]);
  return null;
}

function page(path: string): ReactNode {
  if (path === PATHS.automatizaciones) return <AutomationsPage />;
  if (path === PATHS.puestaEnMarcha) return <SetupPage />;
  if (path === PATHS.tareas) return <TasksPage />;
  if (path === PATHS.nuevaTarea) return <CreateTaskPage />;
  const task = /^\/tareas\/(\d+)$/.exec(path);
  if (task) return <TaskPage id={Number(task[1])} />;
  if (path === PATHS.agentes) return <AgentsPage />;
  if (path === PATHS.personas) return <PeoplePage />;
  if (path === PATHS.ajustes) return <SettingsPage />;
  if (path === PATHS.cuenta) return <AccountPage />;
  return undefined;
}

export function Routes() {
  const { path } = useLocation();
  const t = useT();
  const clean = path.length > 1 ? path.replace(/\/+$/, "") : path;
  if (clean === "/" || clean === "/operacion") return <Redirect to={PATHS.automatizaciones} />;
  const content = page(clean);
  if (content) return <Suspense fallback={<Loading />}>{content}</Suspense>;
  return (
    <div className="card">
      <p>{t("common.notFound")}</p>
      <Link to={PATHS.automatizaciones}>{t("nav.automatizaciones")}</Link>
    </div>
  );
}

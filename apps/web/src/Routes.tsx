import { type ReactNode, Suspense, useEffect } from "react";
import { Loading } from "./components/States.tsx";
import { useT } from "./i18n/index.tsx";
import { lazyPage } from "./lazy-page.ts";
import { PATHS } from "./paths.ts";
import { Link, navigate, useLocation } from "./router.tsx";

// One chunk per page, fetched when it is first shown: the sign-in form and
// the shell paint without the code (and the contract's schemas) of pages the
// operator has not opened.
const AutomationsPage = lazyPage(() => import("./pages/automations/AutomationsPage.tsx").then((m) => m.AutomationsPage));
const SetupPage = lazyPage(() => import("./pages/setup/SetupPage.tsx").then((m) => m.SetupPage));
const TasksPage = lazyPage(() => import("./pages/tasks/TasksPage.tsx").then((m) => m.TasksPage));
const CreateTaskPage = lazyPage(() => import("./pages/tasks/CreateTaskPage.tsx").then((m) => m.CreateTaskPage));
const TaskPage = lazyPage(() => import("./pages/tasks/TaskPage.tsx").then((m) => m.TaskPage));
const AgentsPage = lazyPage(() => import("./pages/AgentsPage.tsx").then((m) => m.AgentsPage));
const PeoplePage = lazyPage(() => import("./pages/people/PeoplePage.tsx").then((m) => m.PeoplePage));
const SettingsPage = lazyPage(() => import("./pages/SettingsPage.tsx").then((m) => m.SettingsPage));
const AccountPage = lazyPage(() => import("./pages/AccountPage.tsx").then((m) => m.AccountPage));

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

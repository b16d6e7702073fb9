import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { LanguageSwitch } from "./components/LanguageSwitch.tsx";
import { type MessageKey, useT } from "./i18n/index.tsx";
import { PATHS } from "./paths.ts";
import { Link, navigate, useLocation } from "./router.tsx";
import { useSession } from "./session.tsx";
import { useTRPC } from "./trpc.ts";
import { HEALTH_INPUT } from "./hooks.ts";

function NavLink({ to, label }: { to: string; label: MessageKey }) {
  const { path } = useLocation();
  const t = useT();
  const active = path === to || path.startsWith(`${to}/`);
  return (
    <Link to={to} className={active ? "nav-link active" : "nav-link"} aria-current={active ? "page" : undefined}>
      {t(label)}
    </Link>
  );
}

function WorkspaceSwitch() {
  const trpc = useTRPC();
  const t = useT();
  const { workspaceId, setWorkspaceId } = useSession();
  const workspaces = useQuery(trpc.workspaces.list.queryOptions({}));
  if (!workspaces.data || workspaces.data.length < 2) return null;
  return (
    <label className="inline-field">
      <span className="sr-only">{t("workspace.label")}</span>
      <select value={workspaceId} onChange={(e) => setWorkspaceId(Number(e.target.value))}>
        {workspaces.data.map((w) => (
          <option key={w.id} value={w.id}>
            {w.name}
          </option>
        ))}
      </select>
    </label>
  );
}

/** Who is signed in, in a menu: the role, My account, sign out. Small, so the header stays one line. */
function UserMenu() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { me, roleKey } = useSession();
  const logout = useMutation(
    trpc.auth.logout.mutationOptions({
      onSettled: async () => {
        // Ask "who am I" again (now 401: the sign-in form), and forget everything else.
        const meKey = trpc.auth.me.queryKey({});
        await queryClient.resetQueries({ queryKey: meKey });
        queryClient.removeQueries({ predicate: (q) => JSON.stringify(q.queryKey) !== JSON.stringify(meKey) });
        navigate("/", { replace: true });
      },
    }),
  );
  return (
    <details className="user-menu">
      <summary>
        <span className="user-name">{me.username}</span> <span className="user-role">({t(roleKey)})</span>
      </summary>
      <div className="user-menu-panel">
        <p className="muted small">{t("auth.signedInAs", { user: `${me.username} (${t(roleKey)})` })}</p>
        {me.kind === "user" ? (
          <Link to={PATHS.cuenta} className="btn" onClick={(e) => e.currentTarget.closest("details")?.removeAttribute("open")}>
            {t("account.title")}
          </Link>
        ) : null}
        <button type="button" className="btn" onClick={() => logout.mutate({})} disabled={logout.isPending}>
          {t("auth.logout")}
        </button>
      </div>
    </details>
  );
}

/** Instance admins see, on every page, that the first-run steps are not done yet. */
function SetupBanner() {
  const t = useT();
  const trpc = useTRPC();
  const { isInstanceAdmin } = useSession();
  const { path } = useLocation();
  const health = useQuery(trpc.dispatch.health.queryOptions(HEALTH_INPUT, { enabled: isInstanceAdmin, staleTime: 10_000 }));
  const pending = health.data?.problems.some((p) => p.code === "DEFAULT_CREDENTIALS" || p.code === "AGENT_NOT_COVERED");
  if (!isInstanceAdmin || !pending || path === PATHS.puestaEnMarcha) return null;
  return (
    <p className="banner banner-setup" role="note">
      {t("setup.banner")} <Link to={PATHS.puestaEnMarcha}>{t("setup.open")}</Link>
    </p>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const t = useT();
  const { canAct, isInstanceAdmin } = useSession();
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <Link to={PATHS.automatizaciones} className="brand">
          {t("app.title")}
        </Link>
        <div className="topbar-tools">
          <WorkspaceSwitch />
          <LanguageSwitch />
          <UserMenu />
        </div>
        <nav aria-label={t("nav.main")} className="nav">
          <div className="nav-group">
            <span className="nav-group-label">{t("nav.operacion")}</span>
            <NavLink to={PATHS.automatizaciones} label="nav.automatizaciones" />
            {isInstanceAdmin ? <NavLink to={PATHS.puestaEnMarcha} label="nav.puesta" /> : null}
          </div>
          <NavLink to={PATHS.tareas} label="nav.tareas" />
          <NavLink to={PATHS.agentes} label="nav.agentes" />
          {canAct ? <NavLink to={PATHS.personas} label="nav.personas" /> : null}
          <NavLink to={PATHS.ajustes} label="nav.ajustes" />
        </nav>
      </header>
      <SetupBanner />
      {canAct ? null : (
        <p className="banner" role="note">
          {t("auth.readOnly")}
        </p>
      )}
      <main id="main" className="content" tabIndex={-1}>
        {children}
      </main>
    </div>
  );
}

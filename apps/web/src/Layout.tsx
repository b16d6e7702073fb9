import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import type { ReactNode } from "react";
import { LanguageSwitch } from "./components/LanguageSwitch.tsx";
import { type MessageKey, useT } from "./i18n/index.tsx";
import { PATHS } from "./paths.ts";
import { Link, navigate, useLocation } from "./router.tsx";
import { useSession } from "./session.tsx";
import { useTRPC } from "./trpc.ts";

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
      <span>{t("workspace.label")}</span>
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

function UserMenu() {
  const t = useT();
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const { me, canAct } = useSession();
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
    <div className="user-menu">
      <span className="muted">
        {t("auth.signedInAs", { user: me.username })} ({canAct ? t("auth.roleAdmin") : t("auth.roleMember")})
      </span>
      <button type="button" className="btn" onClick={() => logout.mutate({})} disabled={logout.isPending}>
        {t("auth.logout")}
      </button>
    </div>
  );
}

export function Layout({ children }: { children: ReactNode }) {
  const t = useT();
  const { canAct } = useSession();
  return (
    <div className="shell">
      <a href="#main" className="skip-link">
        {t("app.skip")}
      </a>
      <header className="topbar">
        <Link to={PATHS.automatizaciones} className="brand">
          {t("app.title")}
        </Link>
        <nav aria-label={t("nav.main")} className="nav">
          <div className="nav-group">
            <span className="nav-group-label">{t("nav.operacion")}</span>
            <NavLink to={PATHS.automatizaciones} label="nav.automatizaciones" />
          </div>
          <NavLink to={PATHS.tareas} label="nav.tareas" />
          <NavLink to={PATHS.agentes} label="nav.agentes" />
          <NavLink to={PATHS.ajustes} label="nav.ajustes" />
        </nav>
        <div className="topbar-tools">
          <WorkspaceSwitch />
          <LanguageSwitch />
          <UserMenu />
        </div>
      </header>
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

import type { TMe } from "@ops/contract";
import { createContext, type ReactNode, useContext, useMemo, useState } from "react";
import type { MessageKey } from "./i18n/index.tsx";

export interface Session {
  me: TMe;
  workspaceId: number;
  setWorkspaceId(id: number): void;
  /** Workspace admin of the current workspace, or instance admin: may act. Members only look. */
  canAct: boolean;
  /** Instance-wide changes: users, workspaces, the service token. */
  isInstanceAdmin: boolean;
  /** The caller's role in the current workspace, as a label key. */
  roleKey: MessageKey;
}

const SessionContext = createContext<Session | null>(null);

export function canActIn(me: TMe, workspaceId: number): boolean {
  if (me.kind === "service" || me.is_instance_admin) return true;
  return me.memberships.some((m) => m.workspace_id === workspaceId && m.role === "admin");
}

export function roleKeyIn(me: TMe, workspaceId: number): MessageKey {
  if (me.kind === "service") return "role.service";
  if (me.is_instance_admin) return "role.instanceAdmin";
  return canActIn(me, workspaceId) ? "role.admin" : "role.member";
}

export function SessionProvider({ me, children }: { me: TMe; children: ReactNode }) {
  const [chosen, setWorkspaceId] = useState<number | undefined>(undefined);
  const workspaceId = chosen ?? me.memberships[0]?.workspace_id ?? 1;
  const value = useMemo<Session>(
    () => ({
      me,
      workspaceId,
      setWorkspaceId,
      canAct: canActIn(me, workspaceId),
      isInstanceAdmin: me.kind === "service" || me.is_instance_admin,
      roleKey: roleKeyIn(me, workspaceId),
    }),
    [me, workspaceId],
  );
  return <SessionContext.Provider value={value}>{children}</SessionContext.Provider>;
}

export function useSession(): Session {
  const value = useContext(SessionContext);
  if (!value) throw new Error("useSession outside SessionProvider");
  return value;
}

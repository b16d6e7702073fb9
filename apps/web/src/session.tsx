import type { TMe } from "@ops/contract";
import { createContext, type ReactNode, useContext, useMemo, useState } from "react";

export interface Session {
  me: TMe;
  workspaceId: number;
  setWorkspaceId(id: number): void;
  /** Workspace admin of the current workspace, or instance admin: may act. Members only look. */
  canAct: boolean;
  /** Instance-wide changes (service token rotation). */
  isInstanceAdmin: boolean;
}

const SessionContext = createContext<Session | null>(null);

export function canActIn(me: TMe, workspaceId: number): boolean {
  if (me.kind === "service" || me.is_instance_admin) return true;
  return me.memberships.some((m) => m.workspace_id === workspaceId && m.role === "admin");
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

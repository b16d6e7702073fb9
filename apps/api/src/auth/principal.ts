import type { TMe } from "@ops/contract";
import { forbidden, OpsError } from "../errors.ts";

export type Role = "admin" | "member";

export type Principal =
  | { kind: "anonymous" }
  | { kind: "service" }
  | {
      kind: "user";
      userId: number;
      username: string;
      isInstanceAdmin: boolean;
      roles: ReadonlyMap<number, Role>;
      sessionIdHash: string;
    }
  /** A dispatched agent: may act on its own task only, while its claim lasts. */
  | { kind: "agent"; taskId: number; attempt: number };

export function actorName(principal: Principal): string {
  switch (principal.kind) {
    case "service":
      return "service";
    case "user":
      return `user:${principal.username}`;
    case "agent":
      return `agent:task-${principal.taskId}`;
    default:
      return "anonymous";
  }
}

/** Throws unless the principal holds `needed` (or more) in the workspace. */
export function assertWorkspaceRole(principal: Principal, workspaceId: number, needed: Role): void {
  if (principal.kind === "service") return;
  if (principal.kind === "user") {
    if (principal.isInstanceAdmin) return;
    const role = principal.roles.get(workspaceId);
    if (role === "admin" || (role === "member" && needed === "member")) return;
    if (role === undefined) throw new OpsError("NOT_FOUND", "workspace not found or not yours");
    throw forbidden(`workspace admin role required`);
  }
  throw forbidden();
}

/** Agents reach only their own task; everyone else goes through workspace roles. */
export function assertTaskAccess(
  principal: Principal,
  task: { id: number; workspaceId: number },
  needed: Role,
): void {
  if (principal.kind === "agent") {
    if (principal.taskId === task.id) return;
    throw forbidden("this agent token is scoped to another task");
  }
  assertWorkspaceRole(principal, task.workspaceId, needed);
}

/** The service token, or a user who is an instance admin or an admin of any workspace. */
export function isAdminCaller(principal: Principal): boolean {
  return (
    principal.kind === "service" ||
    (principal.kind === "user" &&
      (principal.isInstanceAdmin || [...principal.roles.values()].includes("admin")))
  );
}

/** The service token or an instance admin: who may change instance-wide things. */
export function isInstanceOperator(principal: Principal): boolean {
  return principal.kind === "service" || (principal.kind === "user" && principal.isInstanceAdmin);
}

export function describePrincipal(principal: Principal): TMe {
  switch (principal.kind) {
    case "user":
      return {
        kind: "user",
        id: principal.userId,
        username: principal.username,
        is_instance_admin: principal.isInstanceAdmin,
        memberships: [...principal.roles].map(([workspace_id, role]) => ({ workspace_id, role })),
      };
    case "agent":
      return { kind: "agent", id: null, username: actorName(principal), is_instance_admin: false, memberships: [] };
    default:
      return { kind: "service", id: null, username: "service", is_instance_admin: true, memberships: [] };
  }
}

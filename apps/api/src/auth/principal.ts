import type { TMe } from "@ops/contract";
import { forbidden, notFound } from "../errors.ts";

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
  | { kind: "agent"; taskId: number; attempt: number }
  /** A launcher's worker token: acts as its own worker id, on the tasks of its pool (null: the whole instance). */
  | { kind: "worker"; credentialId: number; workerId: string; label: string; workspaceIds: readonly number[] | null };

export function actorName(principal: Principal): string {
  switch (principal.kind) {
    case "service":
      return "service";
    case "user":
      return `user:${principal.username}`;
    case "agent":
      return `agent:task-${principal.taskId}`;
    case "worker":
      return `worker:${principal.workerId}`;
    default:
      return "anonymous";
  }
}

/** Whether the principal holds `needed` (or more) in the workspace. */
export function hasWorkspaceRole(principal: Principal, workspaceId: number, needed: Role): boolean {
  if (principal.kind === "service") return true;
  if (principal.kind !== "user") return false;
  if (principal.isInstanceAdmin) return true;
  const role = principal.roles.get(workspaceId);
  return role === "admin" || (role === "member" && needed === "member");
}

/**
 * Throws unless the principal holds `needed` (or more) in the workspace. A
 * caller outside the workspace gets `<what> not found`, exactly what a missing
 * id answers, so other tenants' ids are not even confirmed.
 */
export function assertWorkspaceRole(principal: Principal, workspaceId: number, needed: Role, what = `workspace ${workspaceId}`): void {
  if (hasWorkspaceRole(principal, workspaceId, needed)) return;
  if (principal.kind === "user") {
    if (!principal.roles.has(workspaceId)) throw notFound(what);
    throw forbidden("workspace admin role required");
  }
  throw forbidden();
}

/** Agents reach only their own task (another one answers as missing); everyone else goes through workspace roles. */
export function assertTaskAccess(
  principal: Principal,
  task: { id: number; workspaceId: number },
  needed: Role,
): void {
  if (principal.kind === "agent") {
    if (principal.taskId === task.id) return;
    throw notFound(`task ${task.id}`);
  }
  assertWorkspaceRole(principal, task.workspaceId, needed, `task ${task.id}`);
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

/** The workspaces a caller administers; null: every workspace (instance admins, the service token). */
export function adminWorkspaces(principal: Principal): number[] | null {
  if (isInstanceOperator(principal)) return null;
  if (principal.kind !== "user") return [];
  return [...principal.roles].filter(([, role]) => role === "admin").map(([id]) => id);
}

/** A worker token acts only as the worker id it was issued for; the service token as any. */
export function assertActsAsWorker(principal: Principal, workerId: string): void {
  if (principal.kind === "worker" && principal.workerId !== workerId) {
    throw forbidden(`this worker token is bound to worker ${principal.workerId}; it cannot act as worker ${workerId}`, "worker_id");
  }
}

/** The workspaces whose tasks a worker caller may claim and report on; null: all of them. */
export function workerPool(principal: Principal): readonly number[] | null {
  return principal.kind === "worker" ? principal.workspaceIds : null;
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
    case "service":
      return { kind: "service", id: null, username: "service", is_instance_admin: true, memberships: [] };
    default:
      throw forbidden();
  }
}

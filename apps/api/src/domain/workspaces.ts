import { type Db, workspaces } from "@ops/db";
import { asc } from "drizzle-orm";
import type { Principal } from "../auth/principal.ts";

/** Workspaces the caller can see, with the caller's role in each. */
export async function listWorkspaces(db: Db, principal: Principal) {
  const rows = await db.select().from(workspaces).orderBy(asc(workspaces.id));
  if (principal.kind === "service") return rows.map((w) => ({ id: w.id, name: w.name, role: "admin" as const }));
  if (principal.kind !== "user") return [];
  if (principal.isInstanceAdmin) {
    return rows.map((w) => ({ id: w.id, name: w.name, role: principal.roles.get(w.id) ?? ("admin" as const) }));
  }
  return rows.filter((w) => principal.roles.has(w.id)).map((w) => ({ id: w.id, name: w.name, role: principal.roles.get(w.id)! }));
}

import { type Db, workspaces } from "@ops/db";
import { eq } from "drizzle-orm";
import { actorName, assertWorkspaceRole, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { notFound } from "../errors.ts";

/**
 * A workspace's own dispatch switch: its admins pause and resume dispatch of
 * its tasks without touching other workspaces. The instance's
 * dispatch_enabled (instance admins, the service token) stays above it.
 */
export async function setWorkspaceDispatch(db: Db, principal: Principal, workspaceId: number, enabled: boolean, ip: string | null): Promise<void> {
  assertWorkspaceRole(principal, workspaceId, "admin");
  await db.transaction(async (tx) => {
    const [before] = await tx
      .select({ enabled: workspaces.dispatchEnabled })
      .from(workspaces)
      .where(eq(workspaces.id, workspaceId))
      .for("update");
    if (!before) throw notFound(`workspace ${workspaceId}`);
    if (before.enabled === enabled) return;
    await tx.update(workspaces).set({ dispatchEnabled: enabled }).where(eq(workspaces.id, workspaceId));
    await audit(tx, {
      actor: actorName(principal),
      action: "dispatch.workspace_toggled",
      targetType: "workspace",
      targetId: workspaceId,
      details: { from: before.enabled, to: enabled },
      ip,
    });
  });
}

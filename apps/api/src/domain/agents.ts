import { CANCELLABLE_STATUSES, type Contract, type ProcedureInput, type TAgent } from "@ops/contract";
import { agents, type Db, literalList, queryRows } from "@ops/db";
import { asc, eq, sql } from "drizzle-orm";
import { actorName, assertWorkspaceRole, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { notFound, OpsError } from "../errors.ts";
import { toAgentDto } from "./serialize.ts";

export async function listAgents(db: Db, principal: Principal, workspaceId = 1): Promise<TAgent[]> {
  assertWorkspaceRole(principal, workspaceId, "member");
  const rows = await db.select().from(agents).where(eq(agents.workspaceId, workspaceId)).orderBy(asc(agents.slug));
  return rows.map(toAgentDto);
}

/** The fields agents.create and agents.update share. */
export type AgentFields = Omit<ProcedureInput<Contract["agents"]["update"]>, "id">;

const toColumns = (f: AgentFields) => ({
  ...(f.name !== undefined ? { name: f.name } : {}),
  ...(f.active !== undefined ? { active: f.active } : {}),
  ...(f.launch_command !== undefined ? { launchCommand: f.launch_command } : {}),
  ...(f.default_model !== undefined ? { defaultModel: f.default_model } : {}),
  ...(f.working_dir !== undefined ? { workingDir: f.working_dir } : {}),
});

export async function createAgent(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["agents"]["create"]>,
  ip: string | null,
): Promise<TAgent> {
  const workspaceId = input.workspace_id ?? 1;
  assertWorkspaceRole(principal, workspaceId, "admin");
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(agents)
      .values({ workspaceId, slug: input.slug, ...toColumns(input), name: input.name })
      .returning();
    await audit(tx, { actor: actorName(principal), action: "agent.created", targetType: "agent", targetId: row!.id, details: { slug: input.slug }, ip });
    return toAgentDto(row!);
  });
}

export async function updateAgent(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["agents"]["update"]>,
  ip: string | null,
): Promise<TAgent> {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(agents).where(eq(agents.id, input.id)).for("update");
    if (!existing) throw notFound(`agent ${input.id}`);
    assertWorkspaceRole(principal, existing.workspaceId, "admin");
    const set = toColumns(input);
    const [row] = await tx
      .update(agents)
      .set({ ...set, updatedAt: new Date() })
      .where(eq(agents.id, input.id))
      .returning();
    await audit(tx, {
      actor: actorName(principal),
      action: "agent.updated",
      targetType: "agent",
      targetId: input.id,
      details: { slug: existing.slug, fields: Object.keys(set) },
      ip,
    });
    return toAgentDto(row!);
  });
}

export async function deleteAgent(db: Db, principal: Principal, id: number, ip: string | null): Promise<void> {
  await db.transaction(async (tx) => {
    const [existing] = await tx.select().from(agents).where(eq(agents.id, id)).for("update");
    if (!existing) throw notFound(`agent ${id}`);
    assertWorkspaceRole(principal, existing.workspaceId, "admin");
    const [busy] = await queryRows<{ n: number }>(
      tx,
      sql`select count(*)::int as n from tasks where agent_id = ${id} and status in ${literalList(CANCELLABLE_STATUSES)}`,
    );
    if (Number(busy?.n ?? 0) > 0) {
      throw new OpsError("BAD_STATUS", `agent ${existing.slug} has ${busy!.n} queued or running task(s); cancel them first`);
    }
    await tx.delete(agents).where(eq(agents.id, id));
    await audit(tx, { actor: actorName(principal), action: "agent.deleted", targetType: "agent", targetId: id, details: { slug: existing.slug }, ip });
  });
}

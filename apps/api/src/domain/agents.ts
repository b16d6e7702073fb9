import { CANCELLABLE_STATUSES, type Contract, type ProcedureInput, type TAgent, type TWorkerAgent } from "@ops/contract";
import { type AgentRow, agents, type Db, literalList, queryRows } from "@ops/db";
import { and, asc, eq, inArray, sql } from "drizzle-orm";
import { actorName, assertWorkspaceRole, isInstanceOperator, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { forbidden, notFound, OpsError } from "../errors.ts";
import { toAgentDto } from "./serialize.ts";

export async function listAgents(db: Db, principal: Principal, workspaceId = 1): Promise<TAgent[]> {
  assertWorkspaceRole(principal, workspaceId, "member");
  const rows = await db.select().from(agents).where(eq(agents.workspaceId, workspaceId)).orderBy(asc(agents.slug));
  return rows.map(toAgentDto);
}

/** The active agents a worker of this pool may be handed (null: the whole instance), for dispatch.agents. */
export async function listPoolAgents(db: Db, pool: readonly number[] | null): Promise<TWorkerAgent[]> {
  const rows = await db
    .select()
    .from(agents)
    .where(and(eq(agents.active, true), pool === null ? undefined : inArray(agents.workspaceId, [...pool])))
    .orderBy(asc(agents.workspaceId), asc(agents.slug));
  return rows.map((a) => ({ id: a.id, workspace_id: a.workspaceId, slug: a.slug, launch_command: a.launchCommand, default_model: a.defaultModel }));
}

/** The fields agents.create and agents.update share. */
export type AgentFields = Omit<ProcedureInput<Contract["agents"]["update"]>, "id">;

/**
 * What runs on the workers: every launcher of the instance may run an agent's
 * launch command in its working folder, so setting either is an instance
 * admin's (or the service token's) call, never a workspace admin's. Sending
 * the value the agent already has is not a change.
 */
const HOST_FIELDS = ["launch_command", "working_dir"] as const;
const columnOf = { launch_command: "launchCommand", working_dir: "workingDir" } as const;

function assertMaySetHostFields(principal: Principal, fields: AgentFields, existing?: AgentRow): void {
  if (isInstanceOperator(principal)) return;
  for (const field of HOST_FIELDS) {
    const value = fields[field];
    if (value === undefined || value === (existing?.[columnOf[field]] ?? null)) continue;
    throw forbidden(`${field} runs on every worker host: only an instance admin may set it`, field);
  }
}

/** Each changed field with its old and new value, for the audit log. */
function changesOf(existing: AgentRow, set: Partial<AgentRow>): Record<string, { from: unknown; to: unknown }> {
  const changes: Record<string, { from: unknown; to: unknown }> = {};
  for (const [key, to] of Object.entries(set) as [keyof AgentRow, unknown][]) {
    const from = existing[key];
    if (from !== to) changes[key.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`)] = { from, to };
  }
  return changes;
}

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
  assertMaySetHostFields(principal, input);
  return db.transaction(async (tx) => {
    const [row] = await tx
      .insert(agents)
      .values({ workspaceId, slug: input.slug, ...toColumns(input), name: input.name })
      .returning();
    await audit(tx, {
      actor: actorName(principal),
      action: "agent.created",
      targetType: "agent",
      targetId: row!.id,
      details: { slug: input.slug, launch_command: row!.launchCommand, working_dir: row!.workingDir },
      ip,
    });
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
    assertWorkspaceRole(principal, existing.workspaceId, "admin", `agent ${input.id}`);
    assertMaySetHostFields(principal, input, existing);
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
      details: { slug: existing.slug, fields: Object.keys(set), changes: changesOf(existing, set) },
      ip,
    });
    return toAgentDto(row!);
  });
}

export async function deleteAgent(db: Db, principal: Principal, id: number, ip: string | null): Promise<void> {
  await db.transaction(async (tx) => {
    const [existing] = await tx.select().from(agents).where(eq(agents.id, id)).for("update");
    if (!existing) throw notFound(`agent ${id}`);
    assertWorkspaceRole(principal, existing.workspaceId, "admin", `agent ${id}`);
    // A task that still names the agent would silently lose it: refuse while any
    // task not archived uses it. Archived tasks keep their history with no agent.
    const [used] = await queryRows<{ n: number; live: number }>(
      tx,
      sql`select count(*)::int as n, count(*) filter (where status in ${literalList(CANCELLABLE_STATUSES)})::int as live
          from tasks where agent_id = ${id} and archived_at is null`,
    );
    const n = Number(used?.n ?? 0);
    if (n > 0) {
      throw new OpsError("AGENT_IN_USE", `agent ${existing.slug} is used by ${n} task(s) (${Number(used?.live ?? 0)} queued or running); deactivate it instead, or archive those tasks or give them another agent`, {
        params: { agent: existing.slug, tasks: n, live: Number(used?.live ?? 0) },
      });
    }
    await tx.delete(agents).where(eq(agents.id, id));
    await audit(tx, { actor: actorName(principal), action: "agent.deleted", targetType: "agent", targetId: id, details: { slug: existing.slug }, ip });
  });
}

import type { Contract, ProcedureInput } from "@ops/contract";
import { type Db, type DbOrTx, queryRows, systemAlerts, tasks } from "@ops/db";
import { and, desc, eq, sql } from "drizzle-orm";
import { actorName, assertWorkspaceRole, type Principal } from "../auth/principal.ts";
import { audit } from "../audit.ts";
import { notFound } from "../errors.ts";
import { toAlertDto } from "./serialize.ts";

export type AlertKind = "dispatch_stale" | "dispatch_failed" | "recurring_failure";

/**
 * Opens the task's alert of this kind, or reopens it and counts one more
 * occurrence: one alert per task and kind, never a pile. Callers hold the
 * task's row lock, so two watchdog passes cannot race on the same alert.
 */
export async function raiseTaskAlert(
  db: DbOrTx,
  alert: { workspaceId: number; taskId: number; kind: AlertKind; message: string },
): Promise<{ newlyOpen: boolean; occurrences: number }> {
  const [existing] = await db
    .select({ status: systemAlerts.status })
    .from(systemAlerts)
    .where(and(eq(systemAlerts.kind, alert.kind), eq(systemAlerts.taskId, alert.taskId)));
  const [row] = await queryRows<{ occurrences: number }>(
    db,
    sql`insert into system_alerts (workspace_id, task_id, kind, message)
        values (${alert.workspaceId}, ${alert.taskId}, ${alert.kind}, ${alert.message})
        on conflict (kind, task_id) do update set
          status = 'open',
          message = excluded.message,
          occurrences = system_alerts.occurrences + 1,
          last_seen_at = now(),
          resolved_at = null,
          resolved_by = null
        returning occurrences`,
  );
  return { newlyOpen: existing?.status !== "open", occurrences: Number(row?.occurrences ?? 1) };
}

/** The alerts a successful run answers: its earlier failures. A recurring-failure alert stays for a person to triage. */
const ANSWERED_BY_SUCCESS: AlertKind[] = ["dispatch_failed", "dispatch_stale"];

/**
 * A task's run succeeded: its open failure alerts are resolved by that
 * success (resolved_by `system:run-succeeded`), each audited, in one statement.
 * Returns the ids resolved.
 */
export async function resolveAlertsAnsweredBySuccess(db: DbOrTx, taskId: number, workerId: string): Promise<number[]> {
  const resolved = await queryRows<{ id: number }>(
    db,
    sql`with resolved as (
          update system_alerts set status = 'resolved', resolved_at = now(), resolved_by = 'system:run-succeeded'
          where task_id = ${taskId} and status = 'open' and kind in ${sql.raw(`(${ANSWERED_BY_SUCCESS.map((k) => `'${k}'`).join(",")})`)}
          returning id, kind
        ), entry as (
          insert into audit_log (actor, action, target_type, target_id, details)
          select ${`worker:${workerId}`}, 'alert.resolved_by_success', 'alert', id::text,
                 jsonb_build_object('task_id', ${taskId}::int, 'kind', kind)
          from resolved
        )
        select id from resolved`,
  );
  return resolved.map((r) => Number(r.id));
}

const alertColumns = { alert: systemAlerts, taskTitle: tasks.title };

export async function listAlerts(
  db: Db,
  principal: Principal,
  input: ProcedureInput<Contract["alerts"]["list"]>,
) {
  const workspaceId = input.workspace_id ?? 1;
  assertWorkspaceRole(principal, workspaceId, "member");
  const rows = await db
    .select(alertColumns)
    .from(systemAlerts)
    .leftJoin(tasks, eq(tasks.id, systemAlerts.taskId))
    .where(
      and(
        eq(systemAlerts.workspaceId, workspaceId),
        input.status === "all" ? undefined : eq(systemAlerts.status, input.status),
      ),
    )
    .orderBy(desc(systemAlerts.lastSeenAt))
    .limit(500);
  return rows.map((r) => toAlertDto({ ...r.alert, taskTitle: r.taskTitle }));
}

export async function resolveAlert(db: Db, principal: Principal, id: number, ip: string | null) {
  return db.transaction(async (tx) => {
    const [existing] = await tx.select().from(systemAlerts).where(eq(systemAlerts.id, id));
    if (!existing) throw notFound(`alert ${id}`);
    assertWorkspaceRole(principal, existing.workspaceId, "admin", `alert ${id}`);
    await tx
      .update(systemAlerts)
      .set({ status: "resolved", resolvedAt: new Date(), resolvedBy: actorName(principal) })
      .where(eq(systemAlerts.id, id));
    await audit(tx, { actor: actorName(principal), action: "alert.resolved", targetType: "alert", targetId: id, ip });
    const [row] = await tx
      .select(alertColumns)
      .from(systemAlerts)
      .leftJoin(tasks, eq(tasks.id, systemAlerts.taskId))
      .where(eq(systemAlerts.id, id));
    return toAlertDto({ ...row!.alert, taskTitle: row!.taskTitle });
  });
}

import { auditLog, type DbOrTx } from "@ops/db";
import { desc, eq } from "drizzle-orm";

// The audit log every layer writes (auth, domain, dispatch, watchdog): kept
// below all of them so none has to import another to record what it did.

export interface AuditEntry {
  actor: string;
  action: string;
  targetType?: string;
  targetId?: string | number;
  details?: Record<string, unknown>;
  ip?: string | null;
}

export async function audit(db: DbOrTx, entry: AuditEntry): Promise<void> {
  await db.insert(auditLog).values({
    actor: entry.actor,
    action: entry.action,
    targetType: entry.targetType ?? null,
    targetId: entry.targetId === undefined ? null : String(entry.targetId),
    details: entry.details ?? {},
    ip: entry.ip ?? null,
  });
}

/** The newest entries first, optionally of one action. */
export async function listAuditEntries(db: DbOrTx, filter: { action?: string | undefined; limit: number }) {
  return db
    .select()
    .from(auditLog)
    .where(filter.action ? eq(auditLog.action, filter.action) : undefined)
    .orderBy(desc(auditLog.id))
    .limit(filter.limit);
}

import type { TAgent, TContextEntry, TTask, TWorkerCredential } from "@ops/contract";
import type {
  AgentRow,
  AuditRow,
  SystemAlertRow,
  TaskCommentRow,
  TaskContextRow,
  TaskRow,
  TimeLogRow,
  WorkerCredentialRow,
} from "@ops/db";

// Rows become plain JSON (snake_case, ISO dates) so REST and tRPC answer alike.

const iso = (d: Date | string | null | undefined): string | null =>
  d === null || d === undefined ? null : new Date(d).toISOString();

export function toTaskDto(row: TaskRow & { agentSlug: string | null }): TTask {
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    title: row.title,
    description: row.description,
    status: row.status,
    execution: row.execution,
    agent_id: row.agentId,
    agent_slug: row.agentSlug,
    model: row.model,
    priority: row.priority,
    working_dir: row.workingDir,
    sensitive: row.sensitive,
    approved_at: iso(row.approvedAt),
    approved_by: row.approvedBy,
    blocked: row.blocked,
    blocked_reason: row.blockedReason,
    dispatch_output: (row.dispatchOutput as TTask["dispatch_output"]) ?? null,
    claimed_by: row.claimedBy,
    claimed_at: iso(row.claimedAt),
    claim_attempt: row.claimAttempt,
    queued_at: iso(row.queuedAt),
    started_at: iso(row.startedAt),
    finished_at: iso(row.finishedAt),
    failure_count: row.failureCount,
    cancel_requested_at: iso(row.cancelRequestedAt),
    archived: row.archivedAt !== null,
    created_by: row.createdBy,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

export function toAgentDto(row: AgentRow): TAgent {
  return {
    id: row.id,
    workspace_id: row.workspaceId,
    slug: row.slug,
    name: row.name,
    active: row.active,
    launch_command: row.launchCommand,
    default_model: row.defaultModel,
    working_dir: row.workingDir,
    created_at: iso(row.createdAt)!,
    updated_at: iso(row.updatedAt)!,
  };
}

export function toContextDto(row: TaskContextRow): TContextEntry {
  return {
    id: row.id,
    task_id: row.taskId,
    kind: row.kind,
    source: row.source,
    body: row.body,
    author: row.author,
    created_at: iso(row.createdAt)!,
  };
}

export const toCommentDto = (row: TaskCommentRow) => ({
  id: row.id,
  task_id: row.taskId,
  author: row.author,
  body: row.body,
  kind: row.kind,
  created_at: iso(row.createdAt)!,
});

export const toTimeLogDto = (row: TimeLogRow) => ({
  id: row.id,
  task_id: row.taskId,
  source: row.source,
  minutes: row.minutes,
  note: row.note,
  author: row.author,
  created_at: iso(row.createdAt)!,
});

export const toAlertDto = (row: SystemAlertRow & { taskTitle: string | null }) => ({
  id: row.id,
  workspace_id: row.workspaceId,
  kind: row.kind,
  task_id: row.taskId,
  task_title: row.taskTitle,
  status: row.status,
  message: row.message,
  occurrences: row.occurrences,
  first_seen_at: iso(row.firstSeenAt)!,
  last_seen_at: iso(row.lastSeenAt)!,
  resolved_at: iso(row.resolvedAt),
  resolved_by: row.resolvedBy,
});

export const toAuditDto = (row: AuditRow) => ({
  id: row.id,
  actor: row.actor,
  action: row.action,
  target_type: row.targetType,
  target_id: row.targetId,
  details: (row.details ?? {}) as Record<string, unknown>,
  ip: row.ip,
  created_at: iso(row.createdAt)!,
});

export const toWorkerCredentialDto = (row: WorkerCredentialRow): TWorkerCredential => ({
  id: row.id,
  worker_id: row.workerId,
  label: row.label,
  workspace_ids: row.workspaceIds,
  created_by: row.createdBy,
  created_at: iso(row.createdAt)!,
  last_used_at: iso(row.lastUsedAt),
  revoked_at: iso(row.revokedAt),
  revoked_by: row.revokedBy,
});

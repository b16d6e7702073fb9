import { TASK_STATUSES } from "@ops/contract";
import { sql } from "drizzle-orm";
import {
  bigint,
  bigserial,
  boolean,
  index,
  integer,
  jsonb,
  pgTable,
  primaryKey,
  serial,
  text,
  timestamp,
  uniqueIndex,
} from "drizzle-orm/pg-core";

// Columns are camelCase here and snake_case in the database (casing: "snake_case"
// in drizzle-kit and in the runtime client), so raw SQL uses the snake_case names.

const createdAt = () => timestamp({ withTimezone: true }).notNull().defaultNow();
const tstz = () => timestamp({ withTimezone: true });

export const workspaces = pgTable("workspaces", {
  id: serial().primaryKey(),
  name: text().notNull(),
  // The workspace's own dispatch switch (its admins toggle it); dispatch_enabled
  // in ops_settings is the instance's, above every workspace's.
  dispatchEnabled: boolean().notNull().default(true),
  createdAt: createdAt(),
});

export const users = pgTable("users", {
  id: serial().primaryKey(),
  username: text().notNull().unique(),
  passwordHash: text().notNull(),
  isInstanceAdmin: boolean().notNull().default(false),
  passwordChangedAt: tstz().notNull().defaultNow(),
  // A disabled user cannot sign in and its sessions stop working; kept, not
  // deleted, so the audit log's actors still name someone.
  disabledAt: tstz(),
  createdAt: createdAt(),
});

export const memberships = pgTable(
  "memberships",
  {
    workspaceId: integer()
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    role: text({ enum: ["admin", "member"] }).notNull(),
  },
  (t) => [primaryKey({ columns: [t.workspaceId, t.userId] }), index().on(t.userId)],
);

export const sessions = pgTable(
  "sessions",
  {
    // sha256 of the cookie value: a leaked table does not hand out live sessions.
    idHash: text().primaryKey(),
    userId: integer()
      .notNull()
      .references(() => users.id, { onDelete: "cascade" }),
    createdAt: createdAt(),
    expiresAt: tstz().notNull(),
    ip: text(),
  },
  (t) => [index().on(t.userId)],
);

// The sign-in limiter's memory, per (account, client address), shared by every
// API instance. An attempt is reserved here (failures + 1, lock set when due) in
// one statement before the password is checked, so parallel requests cannot all
// read "no failures yet"; a success deletes its row. `user_key` is the audit
// target (a known username, or the keyed hash of an unknown one), or "*" for the
// client's count over every account.
export const loginAttempts = pgTable(
  "login_attempts",
  {
    userKey: text().notNull(),
    client: text().notNull(),
    failures: integer().notNull().default(0),
    lockedUntil: tstz(),
    // Attempts refused while locked: counted here, audited only at 1, 2, 4, 8, …
    refused: integer().notNull().default(0),
    updatedAt: tstz().notNull().defaultNow(),
  },
  (t) => [primaryKey({ columns: [t.userKey, t.client] }), index().on(t.updatedAt)],
);

export const agents = pgTable(
  "agents",
  {
    id: serial().primaryKey(),
    workspaceId: integer()
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    slug: text().notNull(),
    name: text().notNull(),
    active: boolean().notNull().default(true),
    launchCommand: text(),
    defaultModel: text(),
    workingDir: text(),
    runTimeoutMinutes: integer(),
    createdAt: createdAt(),
    updatedAt: tstz().notNull().defaultNow(),
  },
  (t) => [uniqueIndex().on(t.workspaceId, t.slug)],
);

export { TASK_STATUSES };

export const tasks = pgTable(
  "tasks",
  {
    id: serial().primaryKey(),
    workspaceId: integer()
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    title: text().notNull(),
    description: text().notNull().default(""),
    status: text({ enum: TASK_STATUSES }).notNull().default("backlog"),
    execution: text({ enum: ["manual", "interactive"] })
      .notNull()
      .default("manual"),
    agentId: integer().references(() => agents.id, { onDelete: "set null" }),
    model: text(),
    // Higher runs first; ties go to the task queued longest.
    priority: integer().notNull().default(0),
    workingDir: text(),
    runTimeoutMinutes: integer(),
    sensitive: boolean().notNull().default(false),
    approvedAt: tstz(),
    approvedBy: text(),
    blocked: boolean().notNull().default(false),
    blockedReason: text(),
    dispatchOutput: jsonb(),
    claimedBy: text(),
    claimedAt: tstz(),
    // Incremented on every claim; reports must quote it (claim fencing).
    claimAttempt: integer().notNull().default(0),
    queuedAt: tstz(),
    startedAt: tstz(),
    finishedAt: tstz(),
    failureCount: integer().notNull().default(0),
    cancelRequestedAt: tstz(),
    createdBy: text(),
    archivedAt: tstz(),
    createdAt: createdAt(),
    updatedAt: tstz().notNull().defaultNow(),
  },
  (t) => [
    // The claim walks one workspace's queue at a time, in its priority order,
    // reading only this partial index: it stays small however long the
    // history of finished tasks grows.
    index("tasks_workspace_queue_idx")
      .on(t.workspaceId, t.priority.desc(), t.queuedAt, t.id)
      .where(sql`status = 'queued' and archived_at is null`),
    // The claim's fairness: when each workspace was last served.
    index("tasks_workspace_claimed_idx")
      .on(t.workspaceId, t.claimedAt)
      .where(sql`claimed_at is not null`),
    index("tasks_in_flight_idx")
      .on(t.status, t.claimedAt)
      .where(sql`status in ('dispatching', 'doing')`),
    index("tasks_workspace_status_idx").on(t.workspaceId, t.status, t.id.desc()),
    index("tasks_blocked_idx").on(t.status).where(sql`blocked`),
    index().on(t.agentId),
  ],
);

export const taskContext = pgTable(
  "task_context",
  {
    id: serial().primaryKey(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    kind: text().notNull(),
    source: text({ enum: ["human", "ai", "launcher", "system"] }).notNull(),
    body: text().notNull(),
    author: text(),
    createdAt: createdAt(),
  },
  (t) => [index().on(t.taskId)],
);

export const taskComments = pgTable(
  "task_comments",
  {
    id: serial().primaryKey(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    author: text().notNull(),
    body: text().notNull(),
    kind: text({ enum: ["user", "ai-dispatch-log"] })
      .notNull()
      .default("user"),
    createdAt: createdAt(),
  },
  (t) => [index().on(t.taskId)],
);

export const timeLogs = pgTable(
  "time_logs",
  {
    id: serial().primaryKey(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    source: text({ enum: ["ai", "human"] }).notNull(),
    minutes: integer().notNull(),
    note: text(),
    author: text(),
    createdAt: createdAt(),
  },
  (t) => [index().on(t.taskId)],
);

export const opsSettings = pgTable("ops_settings", {
  key: text().primaryKey(),
  value: text().notNull(),
  updatedAt: tstz().notNull().defaultNow(),
  updatedBy: text(),
});

export const workerHeartbeats = pgTable("worker_heartbeats", {
  workerId: text().primaryKey(),
  hostname: text().notNull(),
  pid: integer().notNull(),
  version: text().notNull(),
  agentSlugs: text().array().notNull(),
  models: text().array().notNull(),
  runningTaskIds: integer().array().notNull(),
  freeSlots: integer().notNull(),
  cliVersions: jsonb().notNull().default({}),
  runtimes: jsonb().notNull().default([]),
  startedAt: tstz().notNull().defaultNow(),
  lastSeenAt: tstz().notNull().defaultNow(),
  // How the worker's last heartbeat authenticated, and the pool it serves
  // (null: the whole instance), for health's assignment and its warnings.
  credentialKind: text({ enum: ["service", "worker_token"] }).notNull().default("service"),
  poolWorkspaceIds: integer().array(),
});

// A launcher's credential: bound to one worker id and to the workspaces its
// pool serves (null: the whole instance). Stored as a sha256 only.
export const workerCredentials = pgTable(
  "worker_credentials",
  {
    id: serial().primaryKey(),
    workerId: text().notNull(),
    label: text().notNull().default(""),
    tokenHash: text().notNull().unique(),
    workspaceIds: integer().array(),
    createdBy: text().notNull(),
    createdAt: createdAt(),
    // Written at most about once a minute per token: authenticating costs no write.
    lastUsedAt: tstz(),
    revokedAt: tstz(),
    revokedBy: text(),
  },
  (t) => [index().on(t.workerId)],
);

export const systemAlerts = pgTable(
  "system_alerts",
  {
    id: serial().primaryKey(),
    workspaceId: integer()
      .notNull()
      .references(() => workspaces.id, { onDelete: "cascade" }),
    kind: text().notNull(),
    taskId: integer().references(() => tasks.id, { onDelete: "cascade" }),
    status: text({ enum: ["open", "resolved"] }).notNull().default("open"),
    message: text().notNull(),
    occurrences: integer().notNull().default(1),
    firstSeenAt: tstz().notNull().defaultNow(),
    lastSeenAt: tstz().notNull().defaultNow(),
    resolvedAt: tstz(),
    resolvedBy: text(),
  },
  // One alert per (kind, task): the watchdog reopens it instead of piling up.
  (t) => [uniqueIndex().on(t.kind, t.taskId), index().on(t.status)],
);

export const auditLog = pgTable(
  "audit_log",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    actor: text().notNull(),
    action: text().notNull(),
    targetType: text(),
    targetId: text(),
    details: jsonb().notNull().default({}),
    ip: text(),
    createdAt: createdAt(),
  },
  (t) => [index().on(t.action, t.createdAt), index().on(t.targetType, t.targetId)],
);

// Short-lived credentials handed to a dispatched agent: scoped to one task and
// one claim attempt, revoked when the claim ends.
export const taskTokens = pgTable(
  "task_tokens",
  {
    tokenHash: text().primaryKey(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    claimAttempt: integer().notNull(),
    createdAt: createdAt(),
    revokedAt: tstz(),
  },
  (t) => [index().on(t.taskId)],
);

// One row per claim attempt. Written by the statements that move the task:
// the claim inserts it, started/failed/finished and the watchdog complete it.
export const taskRuns = pgTable(
  "task_runs",
  {
    id: serial().primaryKey(),
    taskId: integer()
      .notNull()
      .references(() => tasks.id, { onDelete: "cascade" }),
    attempt: integer().notNull(),
    workerId: text().notNull(),
    agentSlug: text(),
    model: text(),
    command: jsonb().$type<string[]>(),
    pid: integer(),
    claimedAt: tstz().notNull().defaultNow(),
    startedAt: tstz(),
    endedAt: tstz(),
    exitCode: integer(),
    signal: text(),
    durationMs: bigint({ mode: "number" }),
    aiMinutes: integer(),
    outcome: text({ enum: ["review", "failed", "early_exit", "timed_out", "cancelled", "lost", "refused"] }),
    reason: text(),
    reasonCode: text(),
    reasonParams: jsonb().$type<Record<string, string | number | null>>(),
    logPath: text(),
    errLogPath: text(),
    timeoutMinutes: integer(),
    // Raw bytes of each log file received so far: the next chunk must start here.
    stdoutBytes: bigint({ mode: "number" }).notNull().default(0),
    stderrBytes: bigint({ mode: "number" }).notNull().default(0),
    // Final file sizes, reported with the outcome: all output is in when the counts reach them.
    stdoutTotal: bigint({ mode: "number" }),
    stderrTotal: bigint({ mode: "number" }),
    // Bytes of kept text ever stored (the next chunk's position), still kept, and dropped between head and tail.
    outputBytes: bigint({ mode: "number" }).notNull().default(0),
    keptBytes: bigint({ mode: "number" }).notNull().default(0),
    droppedBytes: bigint({ mode: "number" }).notNull().default(0),
    outputPrunedAt: tstz(),
  },
  (t) => [uniqueIndex().on(t.taskId, t.attempt), index("task_runs_ended_idx").on(t.endedAt).where(sql`output_pruned_at is null`)],
);

// A run's output, in chunks as its launcher uploaded them (credentials already
// replaced). `pos` orders stdout and stderr together; head chunks are never
// dropped by the cap, the oldest tail chunks are.
export const taskRunOutput = pgTable(
  "task_run_output",
  {
    id: bigserial({ mode: "number" }).primaryKey(),
    runId: integer()
      .notNull()
      .references(() => taskRuns.id, { onDelete: "cascade" }),
    stream: text({ enum: ["stdout", "stderr"] }).notNull(),
    pos: bigint({ mode: "number" }).notNull(),
    fileOffset: bigint({ mode: "number" }).notNull(),
    length: integer().notNull(),
    bytes: integer().notNull(),
    head: boolean().notNull(),
    text: text().notNull(),
  },
  (t) => [index().on(t.runId, t.pos)],
);

export type TaskRow = typeof tasks.$inferSelect;
export type AgentRow = typeof agents.$inferSelect;
export type UserRow = typeof users.$inferSelect;
export type TaskContextRow = typeof taskContext.$inferSelect;
export type TaskCommentRow = typeof taskComments.$inferSelect;
export type TimeLogRow = typeof timeLogs.$inferSelect;
export type WorkerHeartbeatRow = typeof workerHeartbeats.$inferSelect;
export type SystemAlertRow = typeof systemAlerts.$inferSelect;
export type AuditRow = typeof auditLog.$inferSelect;
export type LoginAttemptRow = typeof loginAttempts.$inferSelect;
export type WorkerCredentialRow = typeof workerCredentials.$inferSelect;
export type TaskRunRow = typeof taskRuns.$inferSelect;
export type TaskStatus = (typeof TASK_STATUSES)[number];

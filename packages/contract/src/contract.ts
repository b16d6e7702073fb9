import { agentsContract } from "./routers/agents.ts";
import { alertsContract } from "./routers/alerts.ts";
import { auditContract } from "./routers/audit.ts";
import { authContract } from "./routers/auth.ts";
import { commentsContract } from "./routers/comments.ts";
import { contextContract } from "./routers/context.ts";
import { dispatchContract } from "./routers/dispatch.ts";
import { membershipsContract } from "./routers/memberships.ts";
import { settingsContract } from "./routers/settings.ts";
import { tasksContract } from "./routers/tasks.ts";
import { timeLogsContract } from "./routers/time-logs.ts";
import { usersContract } from "./routers/users.ts";
import { workersContract } from "./routers/workers.ts";
import { workspacesContract } from "./routers/workspaces.ts";

/**
 * Every procedure of the API, one router per file under `routers/`: its
 * name, REST method and path, who may call it, its input and its output.
 */
export const contract = {
  auth: authContract,
  workspaces: workspacesContract,
  memberships: membershipsContract,
  users: usersContract,
  agents: agentsContract,
  tasks: tasksContract,
  context: contextContract,
  comments: commentsContract,
  timeLogs: timeLogsContract,
  settings: settingsContract,
  dispatch: dispatchContract,
  workers: workersContract,
  alerts: alertsContract,
  audit: auditContract,
};

export type Contract = typeof contract;

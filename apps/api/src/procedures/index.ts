import { agentsProcedures } from "./agents.ts";
import { alertsProcedures } from "./alerts.ts";
import { auditProcedures } from "./audit.ts";
import { authProcedures } from "./auth.ts";
import { dispatchProcedures } from "./dispatch.ts";
import type { ApiImplementation } from "./implementation.ts";
import { settingsProcedures } from "./settings.ts";
import { commentsProcedures, contextProcedures, timeLogsProcedures } from "./task-entries.ts";
import { tasksProcedures } from "./tasks.ts";
import { usersProcedures } from "./users.ts";
import { workersProcedures } from "./workers.ts";
import { membershipsProcedures, workspacesProcedures } from "./workspaces.ts";

// Thin procedures, one file per router: each maps a contract entry onto a
// plain function of domain/, dispatch/, watchdog/ or auth/.
export const implementation: ApiImplementation = {
  auth: authProcedures,
  workspaces: workspacesProcedures,
  memberships: membershipsProcedures,
  users: usersProcedures,
  agents: agentsProcedures,
  tasks: tasksProcedures,
  context: contextProcedures,
  comments: commentsProcedures,
  timeLogs: timeLogsProcedures,
  settings: settingsProcedures,
  dispatch: dispatchProcedures,
  workers: workersProcedures,
  alerts: alertsProcedures,
  audit: auditProcedures,
};

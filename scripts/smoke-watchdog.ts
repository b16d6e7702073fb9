// npm run smoke:watchdog — creates a temporary stale dispatch and a recurring
// failure, verifies the watchdog's alerts and tasks, then archives/resolves
// its temporary artifacts. It reconciles only its own task, never real work.
import {
  check,
  enableDispatchTemporarily,
  type Json,
  restCaller,
  runSmoke,
  smokeEnv,
  smokeId,
  smokeWorkerId,
  step,
  temporaryAgent,
  temporaryWorker,
} from "./lib/smoke.ts";

const env = smokeEnv(true);
const call = restCaller(env.apiBase, env.OPS_SERVICE_TOKEN);
const ws = env.OPS_WORKSPACE_ID;

await runSmoke("smoke:watchdog", async (cleanup) => {
  const health = await call("GET", "/dispatch/health");
  check(health.status === 200, `health failed: ${health.status} ${JSON.stringify(health.body)}`);
  step(`API reachable at ${env.apiBase}, workspace ${ws}`);

  const id = smokeId();
  const workerId = smokeWorkerId(id);
  const agent = await temporaryAgent(call, cleanup, id, ws);
  const artifacts = { tasks: new Set<number>(), alerts: new Set<number>() };
  cleanup.push(async () => {
    for (const alertId of artifacts.alerts) await call("POST", `/alerts/${alertId}/resolve`);
    for (const taskId of artifacts.tasks) {
      await call("POST", `/tasks/${taskId}/archive`);
    }
    step(`archived tasks ${[...artifacts.tasks].join(", ")}; resolved alerts ${[...artifacts.alerts].join(", ") || "none"}`);
  });
  await enableDispatchTemporarily(call, cleanup);
  await temporaryWorker(call, cleanup, workerId, agent.slug);

  const created = await call("POST", "/tasks", {
    workspace_id: ws,
    title: `[smoke] watchdog ${id}`,
    execution: "interactive",
    agent_slug: agent.slug,
  });
  check(created.status === 200, `create task failed: ${JSON.stringify(created.body)}`);
  const taskId = created.body.id as number;
  artifacts.tasks.add(taskId);

  const claimOnce = async () => {
    const q = await call("POST", `/tasks/${taskId}/dispatch`);
    check(q.body?.status === "queued", `dispatch failed: ${JSON.stringify(q.body)}`);
    const c = await call("POST", "/dispatch/next", { worker_id: workerId, agent_slugs: [agent.slug] });
    check(c.body?.claimed === true && c.body.task.id === taskId, `claim failed: ${JSON.stringify(c.body)}`);
    return c.body.attempt as number;
  };
  const unblock = async () => {
    const u = await call("PATCH", `/tasks/${taskId}`, { blocked: false });
    check(u.body?.blocked === false, `unblock failed: ${JSON.stringify(u.body)}`);
  };
  const alertsOfTask = async (): Promise<Json[]> =>
    ((await call("GET", `/alerts?workspace_id=${ws}&status=all`)).body as Json[]).filter((a) => a.task_id === taskId);

  // 1. A stale dispatch: claimed and left in dispatching; a targeted manual pass with minutes=0.
  await claimOnce();
  step(`task ${taskId} claimed and left in dispatching (a launcher that never reported)`);
  const pass = await call("POST", "/dispatch/reconcile-stale", { minutes: 0, task_ids: [taskId] });
  check(pass.status === 200, `reconcile-stale failed: ${JSON.stringify(pass.body)}`);
  check(pass.body.stale_minutes === 0 && pass.body.reconciled === 1 && pass.body.task_ids[0] === taskId, `reconcile-stale should return this task: ${JSON.stringify(pass.body)}`);
  const stale = (await call("GET", `/tasks/${taskId}`)).body;
  check(stale.status === "waiting" && stale.blocked === true && stale.claimed_by === null, `stale task should be waiting, blocked, unclaimed: ${JSON.stringify(stale)}`);
  const blockers = ((await call("GET", `/tasks/${taskId}/context`)).body as Json[]).filter((c) => c.kind === "blocker");
  check(blockers.length === 1, "the watchdog should write one blocker entry");
  let alerts = await alertsOfTask();
  const staleAlert = alerts.find((a) => a.kind === "dispatch_stale");
  check(staleAlert?.status === "open", `a dispatch_stale alert should be open: ${JSON.stringify(alerts)}`);
  artifacts.alerts.add(staleAlert.id);
  step(`stale dispatch reconciled: waiting + blocked, blocker written, alert ${staleAlert.id} open`);

  // 2. The same task goes stale again: its alert is reopened, not duplicated.
  await call("POST", `/alerts/${staleAlert.id}/resolve`);
  await unblock();
  await claimOnce();
  await call("POST", "/dispatch/reconcile-stale", { minutes: 0, task_ids: [taskId] });
  alerts = await alertsOfTask();
  const reopened = alerts.filter((a) => a.kind === "dispatch_stale");
  check(reopened.length === 1 && reopened[0].status === "open" && reopened[0].occurrences === 2, `the stale alert should reopen with 2 occurrences: ${JSON.stringify(reopened)}`);
  step(`second stale dispatch reopened alert ${reopened[0].id} (occurrences=2)`);

  // 3. Recurring failure: fail it until the threshold raises the recurring alert and a triage task.
  const threshold = Number((await call("GET", "/settings/dispatch_failure_alert_threshold")).body.value);
  let failures = (await call("GET", `/tasks/${taskId}`)).body.failure_count as number;
  while (failures < threshold) {
    await unblock();
    const attempt = await claimOnce();
    const failed = await call("POST", `/dispatch/tasks/${taskId}/failed`, {
      worker_id: workerId,
      attempt,
      reason: "launcher process exited early (code=1, signal=null)",
      evidence: "smoke: simulated recurring failure",
      duration_ms: 10,
    });
    check(failed.body?.status === "waiting", `failure report failed: ${JSON.stringify(failed.body)}`);
    failures = failed.body.failure_count;
  }
  alerts = await alertsOfTask();
  for (const a of alerts) artifacts.alerts.add(a.id);
  check(alerts.some((a) => a.kind === "recurring_failure" && a.status === "open"), `a recurring_failure alert should be open: ${JSON.stringify(alerts)}`);
  const triage = ((await call("GET", `/tasks?workspace_id=${ws}&search=${encodeURIComponent(`Triage: task #${taskId} `)}`)).body.tasks as Json[]);
  check(triage.length === 1, `one triage task should exist for task ${taskId}, found ${triage.length}`);
  artifacts.tasks.add(triage[0].id);
  step(`recurring failure after ${failures} failures: alert raised, triage task ${triage[0].id} created`);
});

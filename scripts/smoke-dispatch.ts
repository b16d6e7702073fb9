// npm run smoke:dispatch — API-level dispatch smoke, no AI runtime launched.
// It plays the worker itself: next → queued → dispatching → (doing) → review,
// checks the Human Gate, then deletes everything it made and restores settings.
import {
  check,
  enableDispatchTemporarily,
  restCaller,
  runSmoke,
  smokeEnv,
  smokeId,
  smokeWorkerId,
  step,
  temporaryAgent,
  temporaryWorker,
} from "./lib/smoke.ts";

const env = smokeEnv();
const call = restCaller(env.apiBase, env.OPS_SERVICE_TOKEN);

await runSmoke("smoke:dispatch", async (cleanup) => {
  const health = await call("GET", "/dispatch/health");
  check(health.status === 200, `health failed: ${health.status} ${JSON.stringify(health.body)}`);
  step(`API reachable at ${env.apiBase}, token accepted`);

  const id = smokeId();
  const workerId = smokeWorkerId(id);
  const agent = await temporaryAgent(call, cleanup, id, env.OPS_WORKSPACE_ID);
  const taskIds: number[] = [];
  cleanup.push(async () => {
    for (const taskId of taskIds) await call("DELETE", `/tasks/${taskId}`);
    step(`deleted temporary tasks ${taskIds.join(", ")}`);
  });
  await enableDispatchTemporarily(call, cleanup);
  await temporaryWorker(call, cleanup, workerId, agent.slug);

  const created = await call("POST", "/tasks", {
    workspace_id: env.OPS_WORKSPACE_ID,
    title: `[smoke] dispatch ${id}`,
    description: "Temporary task created by npm run smoke:dispatch",
    execution: "interactive",
    agent_slug: agent.slug,
  });
  check(created.status === 200, `create task failed: ${JSON.stringify(created.body)}`);
  const taskId = created.body.id as number;
  taskIds.push(taskId);
  check(created.body.status === "backlog", `new task should be backlog, is ${created.body.status}`);
  const moved = await call("PATCH", `/tasks/${taskId}/status`, { status: "next" });
  check(moved.body?.status === "next", `task should move to next: ${JSON.stringify(moved.body)}`);
  step(`task ${taskId} created and moved to next`);

  const queued = await call("POST", `/tasks/${taskId}/dispatch`);
  check(queued.body?.status === "queued", `dispatch should queue the task: ${JSON.stringify(queued.body)}`);
  step(`task ${taskId}: next → queued`);

  const claim = await call("POST", "/dispatch/next", { worker_id: workerId, agent_slugs: [agent.slug] });
  check(claim.body?.claimed === true && claim.body.task.id === taskId, `next should claim task ${taskId}: ${JSON.stringify(claim.body)}`);
  check(claim.body.task.status === "dispatching", `claimed task should be dispatching, is ${claim.body.task.status}`);
  step(`task ${taskId}: queued → dispatching (attempt ${claim.body.attempt})`);

  const fence = { worker_id: workerId, attempt: claim.body.attempt };
  const started = await call("POST", `/dispatch/tasks/${taskId}/started`, {
    ...fence,
    pid: process.pid,
    command: ["smoke", "--no-runtime"],
    log_path: "/dev/null",
    err_log_path: "/dev/null",
  });
  check(started.body?.status === "doing", `started report should move to doing: ${JSON.stringify(started.body)}`);
  step(`task ${taskId}: dispatching → doing (simulated launch, no runtime)`);

  const finished = await call("POST", `/dispatch/tasks/${taskId}/finished`, { ...fence, exit_code: 0, duration_ms: 1 });
  check(finished.body?.status === "review", `finished report should move to review: ${JSON.stringify(finished.body)}`);
  step(`task ${taskId}: doing → review`);

  const gated = await call("POST", "/tasks", {
    workspace_id: env.OPS_WORKSPACE_ID,
    title: `[smoke] human gate ${id}`,
    execution: "interactive",
    agent_slug: agent.slug,
    sensitive: true,
  });
  check(gated.status === 200, `create sensitive task failed: ${JSON.stringify(gated.body)}`);
  taskIds.push(gated.body.id);
  const held = await call("POST", `/tasks/${gated.body.id}/dispatch`);
  check(held.status === 409 && held.body?.error?.code === "HUMAN_GATE", `sensitive task should be held by the Human Gate: ${held.status} ${JSON.stringify(held.body)}`);
  const heldTask = await call("GET", `/tasks/${gated.body.id}`);
  check(heldTask.body.blocked === true && heldTask.body.status !== "queued", "held task should be blocked and not queued");
  const none = await call("POST", "/dispatch/next", { worker_id: workerId, agent_slugs: [agent.slug] });
  check(none.body?.claimed === false, `next must not hand out the held task: ${JSON.stringify(none.body)}`);
  step(`Human Gate holds sensitive task ${gated.body.id}: blocked, not queued, not claimable`);
});

/**
 * A launcher stand-in that speaks the REST API: heartbeats with the tasks it
 * runs, long-polls for work, reports started and finished. It survives API and
 * database outages by retrying, and records every answer it got, so fault
 * tests can count what was claimed, run, lost or duplicated.
 */
export interface WorkerLog {
  claims: Array<{ taskId: number; attempt: number }>;
  finished: number[];
  statuses: number[];
  errors: string[];
}

export function startFakeWorker(options: { apiBase: () => string; token: string; workerId: string; slugs?: string[]; waitMs?: number }) {
  const log: WorkerLog = { claims: [], finished: [], statuses: [], errors: [] };
  const slugs = options.slugs ?? ["codex"];
  const running = new Set<number>();
  let stopped = false;
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${options.apiBase()}${path}`, {
      method,
      headers: { "x-ops-service-token": options.token, "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(20_000),
    });
    log.statuses.push(res.status);
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
  const pause = (ms: number) => new Promise((r) => setTimeout(r, ms));
  const heartbeat = () =>
    call("POST", "/dispatch/heartbeat", {
      worker_id: options.workerId, hostname: "fault-test", pid: process.pid, version: "fake",
      agent_slugs: slugs, running_task_ids: [...running], free_slots: 1,
    });

  const heartbeats = (async () => {
    while (!stopped) {
      await heartbeat().catch((e) => log.errors.push(`heartbeat: ${(e as Error).message}`));
      await pause(500);
    }
  })();

  const loop = (async () => {
    while (!stopped) {
      try {
        const next = await call("POST", "/dispatch/next", { worker_id: options.workerId, agent_slugs: slugs, wait_ms: options.waitMs ?? 500 });
        if (next.status !== 200 || !next.body.claimed) {
          if (next.status !== 200) await pause(200);
          continue;
        }
        const { task, attempt } = next.body;
        log.claims.push({ taskId: task.id, attempt });
        running.add(task.id);
        const fence = { worker_id: options.workerId, attempt };
        // Reports are retried until the API gives a definite answer.
        let finishedOk = false;
        for (const [path, body] of [
          [`/dispatch/tasks/${task.id}/started`, { ...fence, pid: process.pid, command: ["fake"], log_path: "/dev/null", err_log_path: "/dev/null" }],
          [`/dispatch/tasks/${task.id}/finished`, { ...fence, exit_code: 0, duration_ms: 5 }],
        ] as const) {
          for (;;) {
            const res = await call("POST", path, body).catch((e) => ({ status: 0, body: String(e) }));
            if (res.status === 200 && path.endsWith("/finished")) finishedOk = true;
            if (res.status === 200 || res.status === 409) break;
            await pause(200);
          }
        }
        if (finishedOk) log.finished.push(task.id);
        running.delete(task.id);
      } catch (error) {
        log.errors.push((error as Error).message);
        await pause(200);
      }
    }
  })();

  return {
    log,
    async stop() {
      stopped = true;
      await Promise.all([loop, heartbeats]);
    },
  };
}

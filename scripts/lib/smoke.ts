import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { z } from "zod";

/** The runbook's smoke env, validated once: a missing value stops with what to set. */
export function smokeEnv(needsWorkspace = false) {
  const schema = z.object({
    OPS_API_BASE: z.url({ error: "must be the API base URL, e.g. http://127.0.0.1:3847/api" }),
    OPS_SERVICE_TOKEN: z.string({ error: "must be set to the service token (X-OPS-Service-Token)" }).min(1, { error: "must not be empty" }),
    OPS_WORKSPACE_ID: needsWorkspace
      ? z.coerce.number({ error: "must be a workspace id such as 1" }).int().positive().default(1)
      : z.coerce.number().int().positive().default(1),
  });
  const result = schema.safeParse(process.env);
  if (!result.success) {
    for (const issue of result.error.issues) console.error(`[smoke] ${issue.path.join(".")} ${issue.message}`);
    process.exit(2);
  }
  return { ...result.data, apiBase: result.data.OPS_API_BASE.replace(/\/+$/, "") };
}

export class SmokeFailure extends Error {}

// biome-ignore lint/suspicious/noExplicitAny: the smoke checks REST answers field by field
export type Json = any;

export function restCaller(apiBase: string, token: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Json }> => {
    let res: Response;
    try {
      res = await fetch(`${apiBase}${path}`, {
        method,
        headers: { "X-OPS-Service-Token": token, ...(body !== undefined ? { "Content-Type": "application/json" } : {}) },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
    } catch (error) {
      throw new SmokeFailure(`cannot reach ${apiBase}${path}: ${(error as Error).message}`);
    }
    const text = await res.text();
    let parsed: Json;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.status === 401) throw new SmokeFailure("the API refused OPS_SERVICE_TOKEN (401): check the token");
    return { status: res.status, body: parsed };
  };
}

export function step(message: string): void {
  console.log(`[smoke] ✓ ${message}`);
}

export function check(condition: unknown, message: string): asserts condition {
  if (!condition) throw new SmokeFailure(message);
}

export const smokeId = () => `smoke-${randomBytes(3).toString("hex")}`;
export const smokeWorkerId = (id: string) => `${id}-${hostname().replace(/[^A-Za-z0-9._-]/g, "-")}`;

/**
 * Runs a smoke body; on any failure prints why and exits 1, after the cleanup
 * (settings restored, temporary things removed) has run in every case.
 */
export async function runSmoke(name: string, body: (cleanup: Array<() => Promise<unknown>>) => Promise<void>) {
  const cleanup: Array<() => Promise<unknown>> = [];
  let failed = false;
  try {
    await body(cleanup);
  } catch (error) {
    failed = true;
    console.error(`[smoke] ✗ ${error instanceof SmokeFailure ? error.message : (error as Error).stack}`);
  } finally {
    for (const undo of cleanup.reverse()) {
      try {
        await undo();
      } catch (error) {
        failed = true;
        console.error(`[smoke] ✗ cleanup failed: ${(error as Error).message}`);
      }
    }
  }
  console.log(failed ? `[smoke] FAIL ${name}` : `[smoke] PASS ${name}`);
  process.exit(failed ? 1 : 0);
}

/**
 * Turns dispatch on for the smoke and registers its restore. Refuses when that
 * would hand real queued work to live launchers, unless explicitly allowed.
 */
export async function enableDispatchTemporarily(call: ReturnType<typeof restCaller>, cleanup: Array<() => Promise<unknown>>) {
  const current = (await call("GET", "/settings/dispatch_enabled")).body;
  check(current?.value === "true" || current?.value === "false", `cannot read dispatch_enabled: ${JSON.stringify(current)}`);
  if (current.value === "true") {
    step("dispatch_enabled is already true");
    return;
  }
  const health = (await call("GET", "/dispatch/health")).body;
  if (health.queue.queued > 0 && health.worker_summary.fresh > 0 && process.env.SMOKE_ALLOW_ENABLE !== "1") {
    throw new SmokeFailure(
      `dispatch is off and ${health.queue.queued} real task(s) are queued with live workers: enabling dispatch for the smoke would start them. Run when the queue is empty, or set SMOKE_ALLOW_ENABLE=1.`,
    );
  }
  const on = await call("PUT", "/settings/dispatch_enabled", { value: "true" });
  check(on.status === 200, `cannot enable dispatch: ${JSON.stringify(on.body)}`);
  cleanup.push(async () => {
    const off = await call("PUT", "/settings/dispatch_enabled", { value: "false" });
    check(off.status === 200, "could not restore dispatch_enabled=false");
    step("restored dispatch_enabled=false");
  });
  step("dispatch_enabled set to true for the smoke (restored at the end)");
}

/** A temporary agent only this smoke claims for, so live launchers never pick its tasks. */
export async function temporaryAgent(
  call: ReturnType<typeof restCaller>,
  cleanup: Array<() => Promise<unknown>>,
  id: string,
  workspaceId: number,
) {
  const agent = await call("POST", "/agents", { workspace_id: workspaceId, slug: id, name: `Smoke ${id}` });
  check(agent.status === 200, `cannot create the temporary agent: ${JSON.stringify(agent.body)}`);
  cleanup.push(async () => {
    const res = await call("DELETE", `/agents/${agent.body.id}`);
    check(res.status === 200, `could not delete temporary agent ${id}: ${JSON.stringify(res.body)}`);
  });
  step(`temporary agent ${id} created`);
  return agent.body as { id: number; slug: string };
}

export async function temporaryWorker(call: ReturnType<typeof restCaller>, cleanup: Array<() => Promise<unknown>>, workerId: string, slug: string) {
  const hb = await call("POST", "/dispatch/heartbeat", {
    worker_id: workerId,
    hostname: hostname(),
    pid: process.pid,
    version: "smoke",
    agent_slugs: [slug],
    models: [],
    running_task_ids: [],
    free_slots: 1,
  });
  check(hb.status === 200, `heartbeat failed: ${JSON.stringify(hb.body)}`);
  cleanup.push(() => call("DELETE", `/dispatch/workers/${workerId}`));
  step(`heartbeat sent as worker ${workerId}`);
}

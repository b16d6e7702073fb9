import { SERVICE_TOKEN_HEADER, SETTING_KEYS, SETTINGS, type SettingDef } from "@ops/contract";
import { sql } from "drizzle-orm";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { DB_KINDS, SERVICE_TOKEN, sqlRows, startTestApi, type TestApi } from "./harness.ts";

// Bugs that once survived every suite (issue 16), each pinned by a test that
// fails with the bug planted: the claim without SKIP LOCKED, reports from an
// older attempt or from a worker without the claim, settings bounds the API
// did not enforce, and the service token compared on part of its hash.

// biome-ignore lint/suspicious/noExplicitAny: REST bodies are checked field by field
type Body = any;

/**
 * Values to try for settings that are not whole numbers (those are tested from
 * their `range`). A new setting with neither a range nor a row here fails the
 * coverage test below, so every setting's bounds are tested at the API.
 */
const VALUE_CASES: Record<string, { accepted: string[]; refused: string[] }> = {
  dispatch_enabled: { accepted: ["true", "false"], refused: ["", "1", "yes", "TRUE", "true "] },
  dispatch_agent_caps: {
    accepted: ["{}", '{"codex":0}', '{"codex":10000,"opencode":2}'],
    refused: ['{"codex":-1}', '{"codex":10001}', '{"codex":1.5}', '{"codex":"2"}', "[1]", "null", "{", ""],
  },
  service_api_token: {
    accepted: ["t".repeat(24), "t".repeat(512)],
    refused: ["t".repeat(23), "t".repeat(513), ""],
  },
};

describe("every setting has bound cases the API is tested with", () => {
  it.each(SETTING_KEYS)("%s", (key) => {
    const def = SETTINGS[key] as SettingDef;
    expect(def.range !== undefined || VALUE_CASES[key] !== undefined, `${key}: give it a range in the contract or a row in VALUE_CASES`).toBe(true);
  });
});

describe.each(DB_KINDS)("planted-bug survivors on %s", (kind) => {
  let api: TestApi;
  let seq = 0;
  const worker = (name: string) => `${kind}-survivor-${name}`;

  beforeAll(async () => {
    api = await startTestApi(kind);
  });
  afterAll(async () => api?.close());

  beforeEach(async () => {
    await sqlRows(api, "update tasks set status = 'done', claimed_by = null where status in ('queued','dispatching','doing')");
    expect((await api.rest("PUT", "/settings/dispatch_enabled", { value: "true" })).status).toBe(200);
  });

  async function queued(fields: Record<string, unknown> = {}): Promise<Body> {
    const created = await api.rest("POST", "/tasks", { title: `survivor ${++seq}`, execution: "interactive", agent_slug: "codex", ...fields });
    expect(created.status, JSON.stringify(created.body)).toBe(200);
    const res = await api.rest("POST", `/tasks/${created.body.id}/dispatch`);
    expect(res.body.status).toBe("queued");
    return res.body;
  }
  const next = (workerId: string) => api.rest("POST", "/dispatch/next", { worker_id: workerId, agent_slugs: ["codex"] });
  const task = async (id: number): Promise<Body> => (await api.rest("GET", `/tasks/${id}`)).body;
  const evidence = async (id: number) => ({
    task: await task(id),
    context: (await api.rest("GET", `/tasks/${id}/context`)).body,
    time: (await api.rest("GET", `/tasks/${id}/time-logs`)).body,
    alerts: (await api.rest("GET", "/alerts?status=all")).body.filter((a: Body) => a.task_id === id),
  });

  if (kind === "postgres") {
    it("claims the next task at once while another transaction holds a row lock on the best one (SKIP LOCKED)", async () => {
      const best = await queued({ priority: 100 });
      const second = await queued({ priority: 1 });
      let locked!: () => void;
      let release!: () => void;
      const lockTaken = new Promise<void>((r) => (locked = r));
      const released = new Promise<void>((r) => (release = r));
      // Another connection holds the best task's row lock, the way a slow claim or an operator's transaction would.
      const holder = api.database.db.transaction(async (tx) => {
        await tx.execute(sql`select id from tasks where id = ${best.id} for update`);
        locked();
        await released;
      });
      await lockTaken;
      try {
        // A claim that waits on the lock would only answer once it is released,
        // which happens after this call has to answer: it is aborted instead.
        const res = await fetch(`${api.apiBase}/dispatch/next`, {
          method: "POST",
          headers: { "content-type": "application/json", [SERVICE_TOKEN_HEADER]: SERVICE_TOKEN },
          body: JSON.stringify({ worker_id: worker("skip"), agent_slugs: ["codex"] }),
          signal: AbortSignal.timeout(15_000),
        }).catch((error: Error) => {
          throw new Error(`dispatch/next waited on the locked task instead of skipping it (${error.name})`);
        });
        expect(await res.json()).toMatchObject({ claimed: true, task: { id: second.id } });
      } finally {
        release();
        await holder;
      }
      expect((await task(best.id)).status).toBe("queued");
    });
  }

  it("refuses finished and failed from an older attempt of the same worker, changing nothing", async () => {
    const t = await queued();
    const first = (await next(worker("again"))).body;
    expect(first.task.id).toBe(t.id);
    // The watchdog takes attempt 1 away; the task is dispatched again and the same worker claims attempt 2.
    await sqlRows(api, `update tasks set claimed_at = now() - interval '30 minutes' where id = ${t.id}`);
    expect((await api.rest("POST", "/dispatch/reconcile-stale", { minutes: 20 })).body.task_ids).toEqual([t.id]);
    await api.rest("PATCH", `/tasks/${t.id}`, { blocked: false });
    await api.rest("POST", `/tasks/${t.id}/dispatch`);
    const second = (await next(worker("again"))).body;
    expect(second).toMatchObject({ claimed: true, task: { id: t.id }, attempt: first.attempt + 1 });

    const before = await evidence(t.id);
    const lateFinish = await api.rest("POST", `/dispatch/tasks/${t.id}/finished`, {
      worker_id: worker("again"), attempt: first.attempt, exit_code: 0, duration_ms: 60_000,
    });
    expect(lateFinish.status).toBe(409);
    expect(lateFinish.body.error.code).toBe("STALE_CLAIM");
    const lateFail = await api.rest("POST", `/dispatch/tasks/${t.id}/failed`, {
      worker_id: worker("again"), attempt: first.attempt, reason: "late failure of attempt 1", duration_ms: 60_000,
    });
    expect(lateFail.status).toBe(409);
    expect(lateFail.body.error.code).toBe("STALE_CLAIM");
    expect(await evidence(t.id)).toEqual(before);
    expect(before.task).toMatchObject({ status: "dispatching", claimed_by: worker("again"), claim_attempt: second.attempt });
  });

  it("refuses failed from another worker with the current attempt: task unchanged, no alert", async () => {
    const t = await queued();
    const claim = (await next(worker("holder"))).body;
    const before = await evidence(t.id);
    const res = await api.rest("POST", `/dispatch/tasks/${t.id}/failed`, {
      worker_id: worker("intruder"), attempt: claim.attempt, reason: "launcher process exited early (code=1, signal=null)", exit_code: 1, duration_ms: 100,
    });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe("STALE_CLAIM");
    const after = await evidence(t.id);
    expect(after).toEqual(before);
    expect(after.task).toMatchObject({ status: "dispatching", blocked: false, claimed_by: worker("holder") });
    expect(after.alerts).toEqual([]);
  });

  describe("every setting's bounds at the API: outside refused with 400 naming the key, changing nothing; the bounds themselves accepted", () => {
    let admin: Record<string, string>;
    beforeAll(async () => {
      // The service token setting is rotated and restored by an admin session.
      admin = await api.login();
    });
    const put = (key: string, value: string) => api.restAs(admin)("PUT", `/settings/${key}`, { value });
    const stored = async (key: string) => (await sqlRows<{ value: string }>(api, `select value from ops_settings where key = '${key}'`))[0]?.value;

    it.each(SETTING_KEYS)("%s", async (key) => {
      const def = SETTINGS[key] as SettingDef;
      const cases = def.range
        ? {
            accepted: [String(def.range[0]), String(def.range[1])],
            refused: [String(def.range[0] - 1), String(def.range[1] + 1), "", "abc", "1.5", "1e3", " 5"],
          }
        : VALUE_CASES[key]!;
      const original = await stored(key);
      for (const value of cases.refused) {
        const res = await put(key, value);
        expect(res.status, `${key}=${JSON.stringify(value)} → ${JSON.stringify(res.body)}`).toBe(400);
        expect(res.body.error.message).toContain(key);
        expect(await stored(key), `${key}=${JSON.stringify(value)} changed the stored value`).toBe(original);
      }
      for (const value of cases.accepted) {
        const res = await put(key, value);
        expect(res.status, `${key}=${JSON.stringify(value.slice(0, 40))} → ${JSON.stringify(res.body)}`).toBe(200);
        if (!def.secret) expect(await stored(key)).toBe(value);
      }
      // Back to what the rest of the file runs with.
      const restore = await put(key, def.secret ? SERVICE_TOKEN : (original ?? def.default!));
      expect(restore.status).toBe(200);
    });

    it("refuses dispatch_stale_minutes 0, which would reconcile every dispatch at once", async () => {
      const res = await api.rest("PUT", "/settings/dispatch_stale_minutes", { value: "0" });
      expect(res.status).toBe(400);
      expect(res.body.error.message).toContain("dispatch_stale_minutes");
    });
  });

});

describe("the service token at the API, against a stored hash one hex digit off", () => {
  let api: TestApi;
  beforeAll(async () => {
    api = await startTestApi("postgres");
  });
  afterAll(async () => api?.close());

  it("is refused with 401 (the whole hash is compared, not a prefix)", async () => {
    // Before any request: the verifier has no cached hash yet and reads this one.
    const [row] = await sqlRows<{ value: string }>(api, "select value from ops_settings where key = 'service_api_token'");
    const hash = row!.value;
    const lastDigitOff = hash.slice(0, -1) + (hash.endsWith("0") ? "1" : "0");
    await sqlRows(api, `update ops_settings set value = '${lastDigitOff}' where key = 'service_api_token'`);
    const res = await api.rest("GET", "/dispatch/health");
    expect(res.status).toBe(401);
    expect(res.body.error.code).toBe("UNAUTHORIZED");
  });
});

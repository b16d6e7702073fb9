import { queryRows } from "@ops/db";
import { sql } from "drizzle-orm";
import { beforeAll, describe, expect, it } from "vitest";
import { useInProcessApi } from "../../test/in-process.ts";
import { claimSql } from "./claim.ts";

// The fair claim stays one cheap statement: with 20,000 queued tasks in three
// workspaces (one of them flooding at priority 1000), PostgreSQL sorts the
// three workspaces and walks one workspace's queue index to the first
// claimable task. It never scans or sorts the queue.

const api = useInProcessApi();

interface PlanNode {
  "Node Type": string;
  "Relation Name"?: string;
  "Index Name"?: string;
  "Actual Rows"?: number;
  "Actual Loops"?: number;
  Plans?: PlanNode[];
}
const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

beforeAll(async () => {
  await queryRows(api.db, sql`insert into workspaces (id, name) values (2, 'two'), (3, 'three') on conflict do nothing`);
  await queryRows(
    api.db,
    sql`insert into agents (workspace_id, slug, name) select w, 'codex', 'Codex' from generate_series(2, 3) w on conflict do nothing`,
  );
  await queryRows(
    api.db,
    sql`insert into tasks (workspace_id, title, status, execution, agent_id, priority, queued_at)
        select w, 'queued ' || g, 'queued', 'interactive',
               (select id from agents a where a.workspace_id = w and a.slug = 'codex'),
               case when w = 1 then 1000 else g % 7 end, now() - make_interval(secs => g)
        from (select g, case when g <= 12000 then 1 when g <= 17000 then 2 else 3 end as w from generate_series(1, 20000) g) x`,
  );
  // History and a few tasks in flight, as a live queue has.
  await queryRows(api.db, sql`insert into tasks (workspace_id, title, status, claimed_at) select 1 + g % 3, 'done', 'done', now() - make_interval(mins => g) from generate_series(1, 20000) g`);
  await queryRows(api.db, sql`update tasks set status = 'doing', claimed_by = 'w', claimed_at = now() where id in (select id from tasks where status = 'queued' and workspace_id = 1 limit 3)`);
  await queryRows(api.db, sql`update ops_settings set value = 'true' where key = 'dispatch_enabled'`);
  await queryRows(api.db, sql`analyze tasks`);
});

/** EXPLAIN ANALYZE of one real claim, rolled back so the queue stays as it is. */
async function explainClaim(slugs: string[]): Promise<{ plan: PlanNode; ms: number }> {
  const request = { workerId: "plan-w", agentSlugs: slugs, models: [], pool: null };
  let result: { plan: PlanNode; ms: number } | undefined;
  await api.db
    .transaction(async (tx) => {
      const [row] = await queryRows<{ "QUERY PLAN": unknown }>(tx, sql`explain (analyze, format json) ${claimSql(request, slugs, { freshWorkerOnly: false }, "plan-hash")}`);
      const raw = row!["QUERY PLAN"];
      const [doc] = (typeof raw === "string" ? JSON.parse(raw) : raw) as Array<{ Plan: PlanNode; "Execution Time": number }>;
      result = { plan: doc!.Plan, ms: doc!["Execution Time"] };
      throw new Error("rollback");
    })
    .catch((error: Error) => {
      if (error.message !== "rollback") throw error;
    });
  return result!;
}

describe("the fair claim's plan on 20,000 queued tasks in three workspaces", () => {
  it("walks one workspace's queue index to the first claimable task, never scanning or sorting the queue", async () => {
    const { plan, ms } = await explainClaim(["codex"]);
    const all = nodes(plan);
    const queueWalks = all.filter((n) => n["Index Name"] === "tasks_workspace_queue_idx");
    expect(queueWalks.length).toBeGreaterThan(0);
    expect(all.filter((n) => n["Node Type"] === "Seq Scan" && n["Relation Name"] === "tasks")).toEqual([]);
    // One workspace tried (the fairest had a claimable task), a row or so read from its index.
    for (const walk of queueWalks) {
      expect(walk["Actual Loops"]).toBe(1);
      expect(walk["Actual Rows"]).toBeLessThanOrEqual(2);
    }
    console.log(`[claim plan] one claim over 20,000 queued in 3 workspaces: ${ms.toFixed(2)} ms (EXPLAIN ANALYZE)`);
  });
});

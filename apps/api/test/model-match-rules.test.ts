import { sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import { describe, expect, it } from "vitest";
import { matchesModelFamily, modelFilterSql, workerAcceptsModel } from "../src/dispatch/model-match.ts";

// The edges of model-family matching (runbook 3.3) that the cases beside the
// module leave open, and the SQL form of the same rule the claim statement uses.
describe("model-family matching: edges", () => {
  it.each([
    // `local-` is removed only as a prefix, never from the middle of a name.
    ["gemma-local-4", "gemma-4*", false],
    ["local-gemma-4", "gemma-4*", true],
    // A `-` stem keeps plain prefix matching, so `local-` is not removed for it.
    ["local-gpt-5", "local-gpt-*", true],
    // Exact filters are case-insensitive and whole-name.
    ["GPT-5", "gpt-5", true],
    ["local-gpt-5", "gpt-5", false],
    // `*` only counts at the end.
    ["qwen3", "q*wen", false],
    ["q*wen", "q*wen", true],
  ])("%s against %s → %s", (model, filter, expected) => {
    expect(matchesModelFamily(model, filter)).toBe(expected);
  });

  it("refuses a model none of the worker's filters match", () => {
    expect(workerAcceptsModel("gemma4", ["qwen*"])).toBe(false);
    expect(workerAcceptsModel("gemma4", ["qwen*", "gpt-*"])).toBe(false);
    expect(workerAcceptsModel(null, [])).toBe(true);
  });
});

describe("model-family matching in SQL (the claim statement's filter)", () => {
  const render = (filters: string[]) => new PgDialect().sqlToQuery(modelFilterSql(sql`t.model`, filters));

  it("is no condition at all for a worker without filters", () => {
    expect(render([])).toMatchObject({ sql: "true", params: [] });
  });

  it("lets tasks without a model through and applies each filter's rule, lowercased", () => {
    expect(render(["GPT-5"])).toMatchObject({ sql: "(t.model is null or lower(t.model) = $1)", params: ["gpt-5"] });
    expect(render(["Qwen*", "gpt-*"])).toMatchObject({
      sql: "(t.model is null or regexp_replace(lower(t.model), '^local-', '') like $1 or lower(t.model) like $2)",
      params: ["qwen%", "gpt-%"],
    });
  });

  it("escapes LIKE's wildcards in a filter, so _ and % match only themselves", () => {
    expect(render(["a_b%c\\d*"]).params).toEqual(["a\\_b\\%c\\\\d%"]);
    expect(render(["x_-*"]).params).toEqual(["x\\_-%"]);
  });
});

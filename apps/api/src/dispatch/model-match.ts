import { type SQL, sql } from "drizzle-orm";

/**
 * Runbook 3.3: a worker filter `fam*` matches by family — the model, lowercased
 * and without a `local-` prefix, starts with `fam` (so `qwen*` takes
 * `local-qwen3.6-coder`). A stem ending in `-` (`gpt-*`) keeps plain prefix
 * matching; a filter without `*` matches exactly (case-insensitive).
 */
export function matchesModelFamily(model: string, filter: string): boolean {
  const name = model.toLowerCase();
  const f = filter.toLowerCase();
  if (!f.endsWith("*")) return name === f;
  const stem = f.slice(0, -1);
  if (stem.endsWith("-")) return name.startsWith(stem);
  return name.replace(/^local-/, "").startsWith(stem);
}

/** A task without a model, or a worker without filters, matches anything. */
export function workerAcceptsModel(model: string | null, filters: readonly string[]): boolean {
  if (model === null || filters.length === 0) return true;
  return filters.some((f) => matchesModelFamily(model, f));
}

const likeEscape = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** The same rule as SQL over a model column, for the claim query. */
export function modelFilterSql(column: SQL, filters: readonly string[]): SQL {
  if (filters.length === 0) return sql`true`;
  const clauses = filters.map((filter) => {
    const f = filter.toLowerCase();
    if (!f.endsWith("*")) return sql`lower(${column}) = ${f}`;
    const stem = f.slice(0, -1);
    if (stem.endsWith("-")) return sql`lower(${column}) like ${`${likeEscape(stem)}%`}`;
    return sql`regexp_replace(lower(${column}), '^local-', '') like ${`${likeEscape(stem)}%`}`;
  });
  return sql`(${column} is null or ${sql.join(clauses, sql` or `)})`;
}

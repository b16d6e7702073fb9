import { execFile } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const repo = resolve(import.meta.dirname, "..");
const depcruise = join(repo, "node_modules/.bin/depcruise");
const run = promisify(execFile);

/** Rule names that fire when the layering config of `pnpm lint` cruises `tree`. */
async function violations(files: Record<string, string>): Promise<string[]> {
  const root = mkdtempSync(join(tmpdir(), "depcruise-"));
  scratch.push(root);
  writeFileSync(join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: { module: "nodenext", allowImportingTsExtensions: true } }));
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  const roots = [...new Set(Object.keys(files).map((path) => path.split("/")[0]!))];
  const args = [...roots, "--config", join(repo, ".dependency-cruiser.cjs"), "--output-type", "json"];
  // depcruise exits non-zero when it finds violations; the JSON is on stdout either way.
  const { stdout } = await run(depcruise, args, { cwd: root }).catch((error: { stdout: string }) => ({ stdout: error.stdout }));
  const report = JSON.parse(stdout) as { summary: { violations: Array<{ rule: { name: string } }> } };
  return report.summary.violations.map((v) => v.rule.name).sort();
}

const scratch: string[] = [];
afterAll(() => {
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
});

describe("pnpm lint's layering rules (.dependency-cruiser.cjs)", () => {
  it("accepts a tree that respects the layers", async () => {
    expect(
      await violations({
        "apps/api/src/procedures/tasks.ts": 'import { rule } from "../domain/rule.ts";\nexport const p = rule;\n',
        "apps/api/src/domain/rule.ts": "export const rule = 1;\n",
        "apps/launcher/src/main.ts": "export const m = 1;\n",
      }),
    ).toEqual([]);
  });

  it("fails on a planted import cycle", async () => {
    expect(
      await violations({
        "apps/api/src/domain/a.ts": 'import { b } from "./b.ts";\nexport const a = () => b;\n',
        "apps/api/src/domain/b.ts": 'import { a } from "./a.ts";\nexport const b = () => a;\n',
      }),
    ).toContain("no-circular");
  });

  it("fails when a domain rule imports the transport", async () => {
    expect(
      await violations({
        "apps/api/src/domain/x.ts": 'import { t } from "../trpc/init.ts";\nexport const x = t;\n',
        "apps/api/src/trpc/init.ts": "export const t = 1;\n",
      }),
    ).toEqual(["api-core-imports-no-transport"]);
  });

  it("fails when a client imports the API or the database, or the contract imports the database", async () => {
    expect(
      await violations({
        "apps/launcher/src/x.ts": 'import { d } from "../../../packages/db/src/d.ts";\nexport const x = d;\n',
        "packages/contract/src/c.ts": 'import { d } from "../../db/src/d.ts";\nexport const c = d;\n',
        "packages/db/src/d.ts": "export const d = 1;\n",
      }),
    ).toEqual(["clients-import-no-server", "contract-imports-no-implementation"]);
  });

  it("fails when shipped code imports test support", async () => {
    expect(
      await violations({
        "bench/src/util.ts": 'import { s } from "../../tests/support/spawn.ts";\nexport const u = s;\n',
        "tests/support/spawn.ts": "export const s = 1;\n",
      }),
    ).toEqual(["product-imports-no-tests"]);
  });
});

import { describe, expect, it } from "vitest";
import { programAllowed, resolveWorkdir } from "./launch-plan.ts";

// The host's bounds on what OPS asks, with symlinks on either side: an entry
// of OPS_ALLOWED_PROGRAMS or a root of OPS_WORKDIR_ROOTS that is itself a
// link still allows what it points to, and a working folder left unset (null
// from the API, undefined from an older claim, "" from a cleared form field)
// is the task's own folder under the first root.
const links: Record<string, string> = {
  "/usr/local/bin/claude": "/opt/claude/bin/claude",
  "/srv/work": "/data/work",
  "/srv/work/repo": "/data/work/repo",
};
const existing = ["/opt/claude/bin/claude", "/opt/other/bin/tool", "/data/work", "/data/work/repo", "/home/ops/repo"];
const realpath = (path: string) => links[path] ?? (existing.includes(path) ? path : undefined);
const noProblem = () => undefined;

describe("allowed programs", () => {
  it("allows the program an allowed symlink points to, found on PATH under its real name", () => {
    const host = { realpath, findOnPath: () => undefined };
    expect(programAllowed("/opt/claude/bin/claude", { allowedPrograms: ["/usr/local/bin/claude"] }, host)).toBe(true);
    expect(programAllowed("/opt/other/bin/tool", { allowedPrograms: ["/usr/local/bin/claude"] }, host)).toBe(false);
  });
});

describe("working folder", () => {
  const config = { workdirRoots: ["/srv/work", "/home/ops"] };

  it.each([null, undefined, ""])("an unset folder (%j) is the task's own under the first root, created at start", (requested) => {
    expect(resolveWorkdir(requested, 12, config, { realpath, workdirProblem: noProblem })).toEqual({ ok: true, workdir: "/srv/work/task-12", create: true });
  });

  it("accepts a folder under a root that is a symlink, as its real path", () => {
    expect(resolveWorkdir("/srv/work/repo", 12, config, { realpath, workdirProblem: noProblem })).toEqual({ ok: true, workdir: "/data/work/repo", create: false });
    expect(resolveWorkdir("/data/work/repo", 12, config, { realpath, workdirProblem: noProblem })).toEqual({ ok: true, workdir: "/data/work/repo", create: false });
  });

  it("refuses an option-like or relative folder with the reason code the run reports", () => {
    expect(resolveWorkdir("-rf", 12, config, { realpath, workdirProblem: noProblem })).toEqual({
      ok: false,
      reason: 'refusing working folder "-rf": it would read as an option',
      code: "WORKDIR_NOT_ALLOWED",
    });
    expect(resolveWorkdir("repo", 12, config, { realpath, workdirProblem: noProblem })).toEqual({
      ok: false,
      reason: 'refusing working folder "repo": not an absolute path',
      code: "WORKDIR_NOT_ALLOWED",
    });
  });
});

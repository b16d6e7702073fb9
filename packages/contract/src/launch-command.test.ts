import { describe, expect, it } from "vitest";
import { expandTemplate, parseTemplate, programOf, TemplateError, type TemplateValues } from "./launch-command.ts";

const values = (over: Partial<TemplateValues> = {}): TemplateValues => ({
  prompt: "do the thing",
  prompt_file: "/logs/1.prompt.md",
  task_id: "7",
  attempt: "1",
  model: "",
  workdir: "/srv/work",
  ...over,
});
const run = (template: string, over: Partial<TemplateValues> = {}) => expandTemplate(parseTemplate(template), values(over));

describe("argv templates", () => {
  it("splits words the shell's way without expanding anything", () => {
    expect(run(`codex exec --flag 'single $HOME' "double \\"q\\" $x" a\\ b {prompt}`)).toEqual([
      "codex",
      "exec",
      "--flag",
      "single $HOME",
      'double "q" $x',
      "a b",
      "do the thing",
    ]);
  });

  it("expands each placeholder into exactly one argv element, whatever it contains", () => {
    const hostile = "x $(touch /tmp/pwned) `id` ; rm -rf / \n--option 'quote\" {task_id}";
    const argv = run("agent --task {task_id} --prompt={prompt} {prompt}", { prompt: hostile });
    expect(argv).toEqual(["agent", "--task", "7", `--prompt=${hostile}`, hostile]);
  });

  it("drops an optional group when one of its placeholders is empty, keeps it otherwise", () => {
    expect(run("opencode run [--model {model}] {prompt}")).toEqual(["opencode", "run", "do the thing"]);
    expect(run("opencode run [--model {model}] {prompt}", { model: "qwen3.6" })).toEqual(["opencode", "run", "--model", "qwen3.6", "do the thing"]);
    expect(run("x [-m={model}] y")).toEqual(["x", "y"]);
    expect(run(`x "[literal]" '[also]'`)).toEqual(["x", "[literal]", "[also]"]);
  });

  it("keeps empty quoted words and single-quoted braces literally", () => {
    expect(run(`x '' "" '{prompt}'`)).toEqual(["x", "", "", "{prompt}"]);
  });

  it("rejects what it cannot run safely, naming the problem", () => {
    expect(() => parseTemplate("")).toThrow(TemplateError);
    expect(() => parseTemplate("x 'open")).toThrow(/unterminated single quote/);
    expect(() => parseTemplate('x "open')).toThrow(/unterminated double quote/);
    expect(() => parseTemplate("x {promt}")).toThrow(/unknown placeholder \{promt\}/);
    expect(() => parseTemplate("{prompt} x")).toThrow(/first word/);
    expect(() => parseTemplate("x [--model {model}")).toThrow(/optional group/);
  });

  it("says where the problem is, so a person can fix the command they typed", () => {
    const problem = (template: string) => {
      try {
        parseTemplate(template);
      } catch (error) {
        return error as TemplateError;
      }
      throw new Error(`${template} parsed`);
    };
    expect(problem('codex exec "{prompt}')).toMatchObject({ problem: "unterminated_double_quote", position: 12, message: "unterminated double quote at character 12" });
    expect(problem("x 'open")).toMatchObject({ problem: "unterminated_single_quote", position: 3 });
    expect(problem("agent --a 'b' {promt}")).toMatchObject({ problem: "unknown_placeholder", position: 15 });
    expect(problem('agent "--x={nope}"')).toMatchObject({ problem: "unknown_placeholder", position: 12 });
    expect(problem("x [--model {model}")).toMatchObject({ problem: "unterminated_group", position: 3 });
    expect(problem("agent x\\")).toMatchObject({ problem: "trailing_backslash", position: 8 });
    expect(problem("  {prompt} x")).toMatchObject({ problem: "program_is_placeholder", position: 3 });
    expect(problem("   ")).toMatchObject({ problem: "empty", position: undefined });
  });

  it("names the program as written", () => {
    expect(programOf(parseTemplate("/opt/bin/hermes chat -q {prompt}"))).toBe("/opt/bin/hermes");
  });
});

import { describe, expect, it } from "vitest";
import { expandTemplate, launchCommandProblem, parseTemplate, readsPromptFromStdin, TemplateError, type TemplateValues } from "./launch-command.ts";

// The parser's answer to what an operator types, beside the module: the
// `< {prompt_file}` redirect (apps/launcher/test/argv-stdin.test.ts checks the
// built-in commands through @ops/contract, which pnpm test:mutation cannot
// see mutated), the exact refusals with where they are, and the words the
// launcher and the API keep from a template.
const values: TemplateValues = {
  prompt: "the task's text",
  prompt_file: "/logs/7-1.prompt.md",
  task_id: "7",
  attempt: "1",
  model: "",
  workdir: "/srv/work",
};
const refusal = (template: string) => {
  const problem = launchCommandProblem(template);
  if (!problem) throw new Error(`${JSON.stringify(template)} parsed`);
  return { problem: problem.problem, position: problem.position, message: problem.message, name: problem.name };
};

describe("argv templates: `< {prompt_file}` gives the agent its prompt on stdin", () => {
  it("takes the redirect out of argv, wherever it is written, and says the template reads stdin", () => {
    for (const [template, argv] of [
      ["claude -p < {prompt_file}", ["claude", "-p"]],
      ["codex exec - < {prompt_file} --cd {workdir}", ["codex", "exec", "-", "--cd", "/srv/work"]],
      ["agent   <   {prompt_file}   --json", ["agent", "--json"]],
    ] as const) {
      const words = parseTemplate(template);
      expect(expandTemplate(words, values), template).toEqual(argv);
      expect(readsPromptFromStdin(words), template).toBe(true);
    }
  });

  it("keeps the prompt file as one stdin word, not as an argument", () => {
    expect(parseTemplate("agent < {prompt_file}")).toStrictEqual([{ pieces: [{ text: "agent" }] }, { pieces: [{ placeholder: "prompt_file" }], stdin: true }]);
  });

  it("reads nothing from stdin without the redirect; a quoted or escaped < is a plain argument", () => {
    expect(readsPromptFromStdin(parseTemplate("agent {prompt}"))).toBe(false);
    expect(readsPromptFromStdin(parseTemplate("agent {prompt_file}"))).toBe(false);
    for (const quoted of [`agent '<' {prompt_file}`, `agent "<" {prompt_file}`, "agent \\< {prompt_file}"]) {
      const words = parseTemplate(quoted);
      expect(readsPromptFromStdin(words), quoted).toBe(false);
      expect(expandTemplate(words, values), quoted).toEqual(["agent", "<", "/logs/7-1.prompt.md"]);
    }
  });

  it("refuses any other redirection, saying where the < is", () => {
    const target = "`<` must be followed by {prompt_file}: the agent's stdin can only be its prompt file";
    expect(refusal("agent < /etc/shadow")).toEqual({ problem: "redirect_target", position: 7, message: `${target} at character 7`, name: "TemplateError" });
    expect(refusal("agent -x <")).toMatchObject({ problem: "redirect_target", position: 10 });
    for (const template of ["agent < {prompt}", "agent < '{prompt_file}'", "agent < x{prompt_file}", "agent < {prompt_file}x", "agent < {prompt_file}{task_id}"]) {
      expect(refusal(template), template).toMatchObject({ problem: "redirect_target", position: 7 });
    }
  });

  it("refuses a second redirect at the second <, and one inside an optional group at its <", () => {
    expect(refusal("agent < {prompt_file} < {prompt_file}")).toEqual({
      problem: "redirect_twice",
      position: 23,
      message: "only one `< {prompt_file}` is allowed at character 23",
      name: "TemplateError",
    });
    expect(refusal("agent [< {prompt_file}]")).toEqual({
      problem: "redirect_in_group",
      position: 8,
      message: "`< {prompt_file}` cannot be inside an optional group at character 8",
      name: "TemplateError",
    });
  });

  it("refuses a template that starts with the redirect: its first word would be the prompt file", () => {
    expect(refusal("< {prompt_file} agent")).toMatchObject({ problem: "program_is_placeholder", position: 1 });
  });
});

describe("argv templates: the words kept from a template", () => {
  it("keeps literal text and placeholders of each word in order, adjacent text as one piece", () => {
    expect(parseTemplate(`x --out='a b'{task_id}.json {prompt} pre"mid"post`)).toStrictEqual([
      { pieces: [{ text: "x" }] },
      { pieces: [{ text: "--out=a b" }, { placeholder: "task_id" }, { text: ".json" }] },
      { pieces: [{ placeholder: "prompt" }] },
      { pieces: [{ text: "premidpost" }] },
    ]);
  });

  it("numbers optional groups in order and marks only their words", () => {
    expect(parseTemplate("x [--model {model}] y [--task {task_id}]")).toStrictEqual([
      { pieces: [{ text: "x" }] },
      { pieces: [{ text: "--model" }], group: 0 },
      { pieces: [{ placeholder: "model" }], group: 0 },
      { pieces: [{ text: "y" }] },
      { pieces: [{ text: "--task" }], group: 1 },
      { pieces: [{ placeholder: "task_id" }], group: 1 },
    ]);
  });

  it("keeps a word made only of quotes as a word with no pieces: an empty argument", () => {
    expect(parseTemplate(`x '' ""`)).toStrictEqual([{ pieces: [{ text: "x" }] }, { pieces: [] }, { pieces: [] }]);
  });
});

describe("argv templates: what the API answers for a launch_command", () => {
  it("finds no problem in a template it can run", () => {
    expect(launchCommandProblem("codex exec --json - < {prompt_file}")).toBeUndefined();
    expect(launchCommandProblem("opencode run [--model {model}] {prompt}")).toBeUndefined();
  });

  it("names the problem, its code and its character, the same as the launcher's parser", () => {
    expect(refusal("agent-{nope} x")).toMatchObject({ problem: "unknown_placeholder", position: 7 });
    expect(refusal("[x] y")).toEqual({ problem: "program_is_optional", position: 2, message: "the program (first word) cannot be optional at character 2", name: "TemplateError" });
    expect(refusal("  [--m {model}] x")).toMatchObject({ problem: "program_is_optional", position: 4 });
    expect(refusal("x 'open")).toMatchObject({ problem: "unterminated_single_quote", position: 3 });
  });

  it("says an empty command without a position", () => {
    expect(refusal("")).toEqual({ problem: "empty", position: undefined, message: "empty command", name: "TemplateError" });
    expect(refusal(" \t\n ")).toEqual({ problem: "empty", position: undefined, message: "empty command", name: "TemplateError" });
  });

  it("does not pass off a fault that is not the template's as a problem with it", () => {
    expect(() => launchCommandProblem(undefined as unknown as string)).toThrow(TypeError);
    expect(launchCommandProblem("x 'open")).toBeInstanceOf(TemplateError);
  });
});

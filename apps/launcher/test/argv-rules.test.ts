import { describe, expect, it } from "vitest";
import { expandTemplate, parseTemplate, TemplateError, type TemplateValues } from "../src/argv.ts";

// The rules of the template language that argv.test.ts leaves implicit: where
// groups begin and end, how quotes and placeholders mix inside one word, and
// the exact refusals an operator sees.
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

describe("argv templates: one word, many pieces", () => {
  it("fills placeholders with text before and after them, quoted or not", () => {
    expect(run("x a{task_id}b --out={workdir}/{task_id}.json")).toEqual(["x", "a7b", "--out=/srv/work/7.json"]);
    expect(run(`x {task_id}'-lit'"-{attempt}"`)).toEqual(["x", "7-lit-1"]);
    expect(run(`x "{task_id}" '{task_id}'`)).toEqual(["x", "7", "{task_id}"]);
    expect(run(`x {task_id}"-q"`)).toEqual(["x", "7-q"]);
  });

  it("joins quoted and unquoted text into one argument", () => {
    expect(run(`x pre'single'mid"double"post`)).toEqual(["x", "presinglemiddoublepost"]);
  });

  it("passes a leading < glued to a word as text: only a standalone < redirects", () => {
    expect(run("x <{prompt_file} a<b")).toEqual(["x", "</logs/1.prompt.md", "a<b"]);
  });
});

describe("argv templates: optional groups", () => {
  it("closes a group at the end of the template", () => {
    expect(run("x [--model {model}]", { model: "m" })).toEqual(["x", "--model", "m"]);
    expect(run("x [--model {model}]")).toEqual(["x"]);
  });

  it("treats ] inside a word, and ] outside any group, as text", () => {
    expect(run("x [a]b {model}]", { model: "m" })).toEqual(["x", "a]b", "m"]);
    expect(run("x [a]b {model}]")).toEqual(["x"]);
    expect(run("x a] b]")).toEqual(["x", "a]", "b]"]);
  });

  it("does not nest: a [ inside a group is text", () => {
    expect(run("x [--a [b {model}]", { model: "m" })).toEqual(["x", "--a", "[b", "m"]);
    expect(run("x [--a [b {model}]")).toEqual(["x"]);
  });

  it("drops each group on its own placeholders only", () => {
    expect(run("x [--model {model}] [--task {task_id}] [--w={workdir}]")).toEqual(["x", "--task", "7", "--w=/srv/work"]);
  });
});

describe("argv templates: refusals, in the operator's words", () => {
  it.each([
    ["", "empty command"],
    ["   ", "empty command"],
    ["x \\", "trailing backslash"],
    ["agent-{task_id} run", "the program (first word) cannot be a placeholder"],
    ["[x] y", "the program (first word) cannot be optional"],
    ["x [", "unterminated optional group: `[` without a matching `]`"],
    ["x {nope}", "unknown placeholder {nope} (known: {prompt} {prompt_file} {task_id} {attempt} {model} {workdir})"],
  ])("%j → %s", (template, message) => {
    expect(() => parseTemplate(template)).toThrow(TemplateError);
    expect(() => parseTemplate(template)).toThrow(message);
  });
});

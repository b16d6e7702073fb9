import { describe, expect, it } from "vitest";
import { expandTemplate, parseTemplate, readsPromptFromStdin, TemplateError, type TemplateValues } from "../src/argv.ts";
import { BUILTIN_COMMANDS } from "../src/runtimes.ts";

const values: TemplateValues = {
  prompt: "the task's text",
  prompt_file: "/logs/7-1.prompt.md",
  task_id: "7",
  attempt: "1",
  model: "",
  workdir: "/srv/work",
};

describe("argv templates: the prompt on stdin", () => {
  it("takes `< {prompt_file}` out of argv and marks the template as reading its prompt from stdin", () => {
    const words = parseTemplate("claude -p --allowedTools Bash Read < {prompt_file}");
    expect(expandTemplate(words, values)).toEqual(["claude", "-p", "--allowedTools", "Bash", "Read"]);
    expect(readsPromptFromStdin(words)).toBe(true);
    const middle = parseTemplate("codex exec - < {prompt_file} --cd {workdir}");
    expect(expandTemplate(middle, values)).toEqual(["codex", "exec", "-", "--cd", "/srv/work"]);
    expect(readsPromptFromStdin(middle)).toBe(true);
  });

  it("keeps stdin closed for a template without the redirect, and a quoted < is a plain argument", () => {
    expect(readsPromptFromStdin(parseTemplate("agent {prompt}"))).toBe(false);
    const quoted = parseTemplate(`agent '<' {prompt_file} "<" \\<`);
    expect(readsPromptFromStdin(quoted)).toBe(false);
    expect(expandTemplate(quoted, values)).toEqual(["agent", "<", "/logs/7-1.prompt.md", "<", "<"]);
  });

  it("refuses any other redirection: only the prompt file, once, outside optional groups", () => {
    expect(() => parseTemplate("agent < /etc/shadow")).toThrow(TemplateError);
    expect(() => parseTemplate("agent < /etc/shadow")).toThrow(/`<` must be followed by \{prompt_file\}/);
    expect(() => parseTemplate("agent < {prompt}")).toThrow(/`<` must be followed by \{prompt_file\}/);
    expect(() => parseTemplate("agent < '{prompt_file}'")).toThrow(/`<` must be followed by \{prompt_file\}/);
    expect(() => parseTemplate("agent <")).toThrow(/`<` must be followed by \{prompt_file\}/);
    expect(() => parseTemplate("agent < x{prompt_file}")).toThrow(/`<` must be followed by \{prompt_file\}/);
    expect(() => parseTemplate("agent < {prompt_file} < {prompt_file}")).toThrow(/only one/);
    expect(() => parseTemplate("agent [< {prompt_file}]")).toThrow(/optional group/);
    expect(() => parseTemplate("< {prompt_file} agent")).toThrow(/first word/);
  });

  it("keeps the task's text out of the argv of every built-in command but hermes'", () => {
    for (const [slug, template] of Object.entries(BUILTIN_COMMANDS)) {
      const words = parseTemplate(template);
      const argv = expandTemplate(words, values);
      if (slug === "hermes") {
        expect(argv).toContain(values.prompt);
        continue;
      }
      expect(readsPromptFromStdin(words), slug).toBe(true);
      expect(argv.join(" "), slug).not.toContain(values.prompt);
      expect(argv.join(" "), slug).not.toContain(values.prompt_file);
    }
  });
});

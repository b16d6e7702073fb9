import { describe, expect, it } from "vitest";
import { matchesModelFamily, workerAcceptsModel } from "./model-match.ts";

describe("model-family matching (runbook 3.3)", () => {
  it.each([
    ["minimax-m2", "minimax*", true],
    ["minimax2.7", "minimax*", true],
    ["qwen3.6", "qwen*", true],
    ["local-qwen3.6-coder", "qwen*", true],
    ["gemma4", "gemma*", true],
    ["local-gemma4", "gemma*", true],
    ["Qwen3.6", "QWEN*", true],
    ["gpt-5", "gpt-*", true],
    ["gpt5", "gpt-*", false],
    ["local-gpt-5", "gpt-*", false],
    ["gpt-5", "gpt-5", true],
    ["gpt-5-mini", "gpt-5", false],
    ["llama3", "qwen*", false],
  ])("%s against %s → %s", (model, filter, expected) => {
    expect(matchesModelFamily(model, filter)).toBe(expected);
  });

  it("lets a task without a model, or a worker without filters, match", () => {
    expect(workerAcceptsModel(null, ["qwen*"])).toBe(true);
    expect(workerAcceptsModel("anything", [])).toBe(true);
    expect(workerAcceptsModel("gemma4", ["qwen*", "gemma*"])).toBe(true);
  });
});

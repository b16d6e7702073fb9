import { parseBlockedReason } from "@ops/contract";
import { describe, expect, it } from "vitest";
import { HUMAN_GATE_REASON } from "../domain/human-gate.ts";
import { staleMessage } from "./stale.ts";

// The app says the system's blocked reasons in its own words by recognising
// the stored text (contract messages.ts): what the API writes must stay
// recognisable, parameters included.

describe("blocked reasons the API writes", () => {
  const thresholds = { staleMinutes: 20, workerStaleSeconds: 90 };
  it("are recognised with their parameters", () => {
    expect(parseBlockedReason(HUMAN_GATE_REASON)).toEqual({ code: "human_gate", params: {} });
    expect(parseBlockedReason(staleMessage("stale_dispatch", { status: "dispatching", worker: "vm-1" }, thresholds))).toEqual({
      code: "stale_dispatch",
      params: { minutes: "20", worker: "vm-1" },
    });
    expect(parseBlockedReason(staleMessage("worker_lost", { status: "doing", worker: "vm-1" }, thresholds))).toEqual({
      code: "worker_lost",
      params: { worker: "vm-1", seconds: "90", status: "doing" },
    });
    expect(parseBlockedReason(staleMessage("claim_lost", { status: "dispatching", worker: "vm-1" }, thresholds))).toEqual({
      code: "claim_lost",
      params: { worker: "vm-1", seconds: "90" },
    });
    // The blocker entry adds evidence after a blank line: the first line is the reason.
    expect(parseBlockedReason("runtime no disponible en host: codex\n\ncommand (built-in): codex exec …")).toEqual({
      code: "runtime_missing",
      params: { cli: "codex" },
    });
    expect(parseBlockedReason("waiting for the customer")).toBeUndefined();
  });
});

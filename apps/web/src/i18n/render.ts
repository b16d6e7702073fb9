import { parseAlertMessage, parseBlockedReason, type TProblem } from "@ops/contract";
import type { Translate } from "./index.tsx";
import { knownKey, localise } from "./words.ts";

/** A health problem, or a dispatch explanation reason, in words; the API's text only for a code this app does not know. */
export function problemText(t: Translate, problem: TProblem, family: "problem" | "reason"): string {
  const params = problem.params ?? {};
  const variant =
    family === "reason" && problem.code === "NOT_QUEUED" && params.in_flight
      ? "reason.NOT_QUEUED.inFlight"
      : family === "reason" && problem.code === "CAPACITY" && params.agent
        ? "reason.CAPACITY.agent"
        : family === "problem" && problem.code === "WORKER_USES_SERVICE_TOKEN" && Number(params.more) > 0
          ? "problem.WORKER_USES_SERVICE_TOKEN.more"
          : family === "reason" && problem.code === "NO_FREE_SLOT" && Number(params.more) > 0
            ? "reason.NO_FREE_SLOT.more"
            : undefined;
  const key = knownKey(variant ?? `${family}.${problem.code}`);
  return key ? t(key, localise(t, params)) : problem.message;
}

/**
 * A stored blocked reason: the system's own reasons in words (the stored text
 * stays available beside them), anything else as written — it is data.
 */
export function blockedReasonText(t: Translate, text: string | null): { text: string; stored: string | undefined } {
  if (!text) return { text: t("common.none"), stored: undefined };
  const parsed = parseBlockedReason(text);
  const key = parsed ? knownKey(`blocked.${parsed.code}`) : undefined;
  if (!parsed || !key) return { text, stored: undefined };
  return { text: t(key, localise(t, parsed.params)), stored: text };
}

/** An alert's stored message, with its reason in words when the system wrote it. */
export function alertText(t: Translate, message: string): { text: string; stored: string | undefined } {
  const parsed = parseAlertMessage(message);
  if (!parsed) return { text: message, stored: undefined };
  const reason = blockedReasonText(t, parsed.reason);
  if (parsed.failures !== undefined) return { text: t("alert.recurring", { n: parsed.failures, reason: reason.text }), stored: message };
  // The task is in its own column: the reason alone, in words when the system wrote it, as written otherwise.
  return { text: reason.text, stored: reason.stored ? message : undefined };
}

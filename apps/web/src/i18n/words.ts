import type { TAgentCoverage, TMessageParams } from "@ops/contract";
import { errorCode, errorMessage, errorParams } from "../errors.ts";
import { hasMessage, type MessageKey, type MessageVar, type MessageVars, type Translate } from "./index.tsx";

// Every message from the API in the reader's language: the API's code picks
// the words, its params fill them. The API's English text is shown only for a
// code this app does not know yet (a newer API), never beside known words.
// Nothing here loads the contract's schemas: the sign-in page uses it.

export const knownKey = (key: string): MessageKey | undefined => (hasMessage(key) ? key : undefined);

const label = (t: Translate, family: string, value: string) => {
  const key = knownKey(`${family}.${value}`);
  return key ? t(key) : value;
};

export const statusLabel = (t: Translate, status: string) => label(t, "status", status);
export const executionLabel = (t: Translate, execution: string) => label(t, "execution", execution);
export const sourceLabel = (t: Translate, source: string) => label(t, "source", source);
export const contextKindLabel = (t: Translate, kind: string) => label(t, "contextKind", kind);
export const alertKindLabel = (t: Translate, kind: string) => label(t, "alertKind", kind);
export const staleReasonLabel = (t: Translate, reason: string) => label(t, "stale", reason);
export const settingDescription = (t: Translate, key: string, fallback: string) => {
  const k = knownKey(`settings.desc.${key}`);
  return k ? t(k) : fallback;
};

/** Params as people read them: statuses and credential names in words, fields by their label. */
export function localise(t: Translate, params: TMessageParams | undefined): MessageVars {
  const vars: MessageVars = {};
  for (const [name, value] of Object.entries(params ?? {})) {
    vars[name] = value as MessageVar;
    if (name === "status" && typeof value === "string") vars[name] = statusLabel(t, value);
    if (name === "field" && typeof value === "string") vars[name] = label(t, "field", value);
    if (name === "credentials" && Array.isArray(value)) vars[name] = value.map((c) => label(t, "credential", String(c)));
  }
  return vars;
}

/** An error in words: the rule that refused (params.reason) if this app knows it, else the code's sentence. */
export function describeError(error: unknown, t: Translate): { summary: string; detail: string | undefined; code: string | undefined } {
  const code = errorCode(error);
  const params = errorParams(error);
  const key =
    // A launch command the launcher's parser refused names the problem (and where): said in words.
    (typeof params.problem === "string" ? knownKey(`template.${params.problem}`) : undefined) ??
    (typeof params.reason === "string" ? knownKey(`errorReason.${params.reason}`) : undefined) ??
    (code ? knownKey(`error.${code}`) : undefined);
  if (key) return { summary: t(key, localise(t, params)), detail: undefined, code };
  // A code this app does not know: say so in words, and show the API's own.
  return { summary: t("error.generic"), detail: errorMessage(error) || undefined, code };
}

/** An agent's fresh workers: the first few ids, and how many more (a fleet is one line, issue 12). */
export function workerListText(t: Translate, coverage: TAgentCoverage): string {
  const more = coverage.fresh_workers - coverage.workers.length;
  return more > 0 ? t("workers.andMore", { workers: coverage.workers.join(", "), more }) : coverage.workers.join(", ");
}

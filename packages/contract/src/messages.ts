import { z } from "zod";

/*
 * What the API says to people, as stable codes and parameters. The English
 * `message` beside each code is for curl users and logs; the web app renders
 * its own words for the code in the chosen language, filled with the params.
 * A code listed here must have its words in every language of the app (the
 * web catalogue's type says so), so adding one here is how a new message
 * reaches the app.
 */

export const ZMessageParam = z.union([z.string(), z.number(), z.boolean(), z.null(), z.array(z.union([z.string(), z.number()]))]);
export const ZMessageParams = z.record(z.string(), ZMessageParam);
export type TMessageParams = z.infer<typeof ZMessageParams>;

/** Why `ok` is false in GET /dispatch/health (`problems[].code`). */
export const HEALTH_PROBLEM_CODES = [
  "NO_FRESH_WORKER",
  "STALE_DISPATCHING",
  "AGENT_NOT_COVERED",
  "DEFAULT_CREDENTIALS",
  "WORKER_USES_SERVICE_TOKEN",
  "NO_WORKER_FOR_WORKSPACE",
  "TRUST_PROXY_ALL_HOPS",
  "PLACEHOLDER_CREDENTIALS",
] as const;
export type THealthProblemCode = (typeof HEALTH_PROBLEM_CODES)[number];

/** Why a task is or is not dispatched now (`reasons[].code` of the dispatch explanation). */
export const DISPATCH_REASON_CODES = [
  "ARCHIVED",
  "NOT_QUEUED",
  "NOT_INTERACTIVE",
  "HUMAN_GATE",
  "BLOCKED",
  "NO_AGENT",
  "AGENT_INACTIVE",
  "DISPATCH_DISABLED",
  "WORKSPACE_DISPATCH_DISABLED",
  "NO_WORKER_FOR_WORKSPACE",
  "NO_WORKER_FOR_AGENT",
  "RUNTIME_NOT_USABLE",
  "RUNTIME_NOT_USABLE_MORE",
  "NO_WORKER_FOR_MODEL",
  "NO_FREE_SLOT",
  "CAPACITY",
  "QUEUED_BEHIND",
] as const;
export type TDispatchReasonCode = (typeof DISPATCH_REASON_CODES)[number];

/**
 * Finer reasons an error carries in `params.reason`, beside its coarse code
 * (which scripts branch on): which rule refused, so the app can say it in
 * words. Input validation names zod's issue; settings name the rule broken.
 */
export const ERROR_REASONS = [
  "too_short",
  "too_long",
  "too_small",
  "too_big",
  "invalid_type",
  "invalid_format",
  "invalid_value",
  "unrecognized_keys",
  "invalid_input",
  "setting_unknown",
  "setting_bool",
  "setting_int_range",
  "setting_agent_caps",
  "setting_too_short",
  "setting_unknown_agents",
  "account_disabled",
  "own_account",
  "last_instance_admin",
  "own_membership",
  "no_such_user",
  "password_wrong",
  "password_reused",
  "reconcile_minutes",
  "login_batched",
  "password_weak",
] as const;
export type TErrorReason = (typeof ERROR_REASONS)[number];

/**
 * Blocked reasons the system writes, recognised from the stored text. The
 * text stays as written (the runbook's failure signatures and the Human
 * Gate's sentence are data scripts grep for); the app shows its own words for
 * a recognised reason and keeps the stored text at hand.
 */
const BLOCKED_REASON_PATTERNS = {
  human_gate: /^Human Gate: sensitive task needs approval by an admin before dispatch$/,
  stale_dispatch: /^stale dispatch: in dispatching for more than (?<minutes>\d+) min \(worker (?<worker>.*)\)$/,
  worker_lost: /^worker (?<worker>.+) lost: no heartbeat for more than (?<seconds>\d+)s while the task was (?<status>\w+)$/,
  claim_lost: /^claim lost: worker (?<worker>.+) is alive but has not reported the task running for (?<seconds>\d+)s after claiming it$/,
  cancelled: /^cancelled by (?<actor>.+)$/,
  blocked_by_operator: /^blocked by operator$/,
  runtime_missing: /^runtime no disponible en host: (?<cli>.+)$/,
  exited_early: /^launcher process exited early \(code=(?<code>[^,]*), signal=(?<signal>[^)]*)\)$/,
  agent_failed: /^agent process failed \(code=(?<code>[^,]*), signal=(?<signal>[^)]*)\) after (?<seconds>[\d.]+)s$/,
  agent_stopped: /^(?<why>.+): agent stopped \(signal=(?<signal>[^)]*)\)$/,
  no_exit_record: /^agent process ended without an exit record\b/,
  timed_out: /^agent timed out after (?<minutes>\d+) min$/,
  program_not_allowed: /^launch_command program (?<program>.+) is not allowed on this host; add it to OPS_ALLOWED_PROGRAMS$/,
  workdir_not_allowed: /^working folder (?<dir>.+?) (?:\(resolves to (?<real>.+)\) )?is outside this host's OPS_WORKDIR_ROOTS \((?<roots>.*)\)$/,
} as const;

export type TBlockedReasonCode = keyof typeof BLOCKED_REASON_PATTERNS;
export const BLOCKED_REASON_CODES = Object.keys(BLOCKED_REASON_PATTERNS) as TBlockedReasonCode[];

/** The code and parameters of a blocked reason the system wrote, or undefined for anything else (a person's words). */
export function parseBlockedReason(text: string): { code: TBlockedReasonCode; params: Record<string, string> } | undefined {
  const firstLine = text.split("\n", 1)[0]!.trim();
  for (const code of BLOCKED_REASON_CODES) {
    const match = BLOCKED_REASON_PATTERNS[code].exec(firstLine);
    if (match) return { code, params: { ...match.groups } };
  }
  return undefined;
}

/**
 * An alert's stored message, `Task #7 "title": <blocked reason>` or the
 * recurring-failure form, split so the app can show the reason in its words.
 */
export function parseAlertMessage(
  text: string,
): { failures?: number; reason: string } | undefined {
  const recurring = /^Task #\d+ ".*" has failed (?<n>\d+) times; last: (?<reason>.*)$/s.exec(text);
  if (recurring?.groups) return { failures: Number(recurring.groups.n), reason: recurring.groups.reason! };
  const single = /^Task #\d+ ".*": (?<reason>.*)$/s.exec(text);
  return single?.groups ? { reason: single.groups.reason! } : undefined;
}

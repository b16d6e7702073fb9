import type {
  TRPCBuiltRouter,
  TRPCDefaultErrorShape,
  TRPCMutationProcedure,
  TRPCQueryProcedure,
} from "@trpc/server";
import type { z } from "zod";
import type { TMessageParams } from "./messages.ts";

/**
 * Who may call a procedure, at the least. Workspace-scoped procedures further
 * check the caller's role in the target's workspace.
 * - public: anyone
 * - user: a signed-in user (any role) or the service token
 * - admin: a workspace admin of the target workspace, an instance admin, or the service token
 * - operator: an instance admin or the service token (instance-wide changes)
 * - worker: a worker token, for its own worker id and pool, or the service token (launchers, smoke scripts)
 * - agent: the service token, or a dispatched agent's token for its own task
 */
export type Access = "public" | "user" | "admin" | "operator" | "worker" | "agent";

export type HttpMethod = "GET" | "POST" | "PUT" | "PATCH" | "DELETE";

export interface ProcedureDef<
  TKind extends "query" | "mutation" = "query" | "mutation",
  TInput extends z.ZodType = z.ZodType,
  TOutput extends z.ZodType = z.ZodType,
> {
  kind: TKind;
  method: HttpMethod;
  /** REST path under /api, with `{param}` placeholders taken from the input. */
  path: string;
  access: Access;
  summary: string;
  input: TInput;
  output: TOutput;
}

export const query = <I extends z.ZodType, O extends z.ZodType>(
  def: Omit<ProcedureDef<"query", I, O>, "kind" | "method"> & { method?: "GET" },
): ProcedureDef<"query", I, O> => ({ ...def, kind: "query", method: "GET" });

export const mutation = <I extends z.ZodType, O extends z.ZodType>(
  def: Omit<ProcedureDef<"mutation", I, O>, "kind" | "method"> & {
    method: Exclude<HttpMethod, "GET">;
  },
): ProcedureDef<"mutation", I, O> => ({ ...def, kind: "mutation" });

/** A procedure's input as its handler receives it (after zod parsing). */
export type ProcedureInput<D extends ProcedureDef> = z.output<D["input"]>;

export type ContractRecord = { [key: string]: ProcedureDef | ContractRecord };

/** Extra fields the API adds to every error so scripts can branch on them. */
export interface OpsErrorData {
  /** Machine-readable reason: HUMAN_GATE, DONE_GUARD, STALE_CLAIM, VALIDATION, … */
  opsCode: string;
  /** The offending input field, for validation errors. */
  field?: string | undefined;
  /** What the app needs to say it in words (messages.ts): `reason` and the values. */
  params?: TMessageParams | undefined;
}

export type OpsErrorShape = TRPCDefaultErrorShape & {
  data: TRPCDefaultErrorShape["data"] & OpsErrorData;
};

export interface OpsRestMeta {
  access: Access;
  method: HttpMethod;
  path: string;
}

type ProcedureFromDef<D extends ProcedureDef> = D["kind"] extends "query"
  ? TRPCQueryProcedure<{ input: z.input<D["input"]>; output: z.output<D["output"]>; meta: OpsRestMeta }>
  : TRPCMutationProcedure<{ input: z.input<D["input"]>; output: z.output<D["output"]>; meta: OpsRestMeta }>;

export type RouterRecordFromContract<C extends ContractRecord> = {
  [K in keyof C]: C[K] extends ProcedureDef
    ? ProcedureFromDef<C[K]>
    : C[K] extends ContractRecord
      ? RouterRecordFromContract<C[K]>
      : never;
};

export type RouterFromContract<C extends ContractRecord> = TRPCBuiltRouter<
  { ctx: object; meta: OpsRestMeta; errorShape: OpsErrorShape; transformer: false },
  RouterRecordFromContract<C>
>;

/** Every procedure of a contract with its dotted tRPC path, e.g. `tasks.create`. */
export function listProcedures(
  record: ContractRecord,
  prefix = "",
): Array<{ name: string; def: ProcedureDef }> {
  const out: Array<{ name: string; def: ProcedureDef }> = [];
  for (const [key, value] of Object.entries(record)) {
    const name = prefix ? `${prefix}.${key}` : key;
    if (isProcedureDef(value)) out.push({ name, def: value });
    else out.push(...listProcedures(value, name));
  }
  return out;
}

export function isProcedureDef(value: unknown): value is ProcedureDef {
  return typeof value === "object" && value !== null && "kind" in value && "input" in value;
}

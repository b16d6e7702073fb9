import type { ContractRecord, contract, ProcedureDef } from "@ops/contract";
import type { z } from "zod";
import type { Ctx } from "./request-context.ts";

type Handler<D extends ProcedureDef> = (opts: {
  ctx: Ctx;
  input: z.output<D["input"]>;
}) => Promise<z.input<D["output"]>>;

/**
 * What the API must provide: one handler per contract procedure, with the
 * contract's input and output types. A missing procedure or a wrong shape is a
 * compile error — the check that keeps the API from drifting from the
 * contract the clients are built from.
 */
export type Implementation<C extends ContractRecord> = {
  [K in keyof C]: C[K] extends ProcedureDef ? Handler<C[K]> : C[K] extends ContractRecord ? Implementation<C[K]> : never;
};

/** This API's implementation of the whole contract; each router file provides one key. */
export type ApiImplementation = Implementation<typeof contract>;

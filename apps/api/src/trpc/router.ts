import {
  type AppRouter,
  type ContractRecord,
  contract,
  isProcedureDef,
  type ProcedureDef,
} from "@ops/contract";
import type { z } from "zod";
import type { Ctx } from "./context.ts";
import { baseProcedure, createCallerFactory, router } from "./init.ts";

type Handler<D extends ProcedureDef> = (opts: {
  ctx: Ctx;
  input: z.output<D["input"]>;
}) => Promise<z.input<D["output"]>>;

/**
 * What the API must provide: one handler per contract procedure, with the
 * contract's input and output types. A missing procedure or a wrong shape is a
 * compile error here — the check that keeps the API from drifting from the
 * contract the clients are built from.
 */
export type Implementation<C extends ContractRecord> = {
  [K in keyof C]: C[K] extends ProcedureDef ? Handler<C[K]> : C[K] extends ContractRecord ? Implementation<C[K]> : never;
};

function buildRecord(defs: ContractRecord, impl: Record<string, unknown>): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const [key, def] of Object.entries(defs)) {
    const handler = impl[key];
    if (isProcedureDef(def)) {
      if (typeof handler !== "function") throw new Error(`procedure ${key} has no implementation`);
      const procedure = baseProcedure
        .meta({ access: def.access, method: def.method, path: def.path })
        .input(def.input)
        .output(def.output);
      record[key] =
        def.kind === "query"
          ? procedure.query(handler as never)
          : procedure.mutation(handler as never);
    } else {
      record[key] = buildRecord(def, handler as Record<string, unknown>);
    }
  }
  return record;
}

/** The API's router: the contract's shapes with this API's handlers. */
export function buildAppRouter(impl: Implementation<typeof contract>): AppRouter {
  // The runtime router is built generically from the contract; its type is the
  // contract's AppRouter, which `impl` has just been checked against.
  return router(buildRecord(contract, impl) as never) as unknown as AppRouter;
}

export function createCaller(appRouter: AppRouter, ctx: Ctx) {
  return createCallerFactory(appRouter as never)(ctx) as unknown as Record<string, unknown>;
}

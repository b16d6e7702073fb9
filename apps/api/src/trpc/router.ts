import { type AppRouter, type ContractRecord, contract, isProcedureDef } from "@ops/contract";
import type { Implementation } from "../procedures/implementation.ts";
import type { Ctx } from "../procedures/request-context.ts";
import { baseProcedure, createCallerFactory, router } from "./init.ts";

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

// Compile-time proof that the API cannot drift from the contract: each
// `@ts-expect-error` below must stay an error, or `pnpm typecheck` fails.
import type { contract } from "@ops/contract";
import { implementation } from "../src/procedures/index.ts";
import type { Implementation } from "../src/procedures/implementation.ts";

const { get: _dropped, ...tasksWithoutGet } = implementation.tasks;

// @ts-expect-error a procedure of the contract without a handler
export const missingProcedure: Implementation<typeof contract> = { ...implementation, tasks: tasksWithoutGet };

export const wrongOutput: Implementation<typeof contract> = {
  ...implementation,
  tasks: {
    ...implementation.tasks,
    // @ts-expect-error a handler whose answer does not match the contract's output
    get: async () => ({ id: "seven" }),
  },
};

export const wrongInput: Implementation<typeof contract> = {
  ...implementation,
  settings: {
    ...implementation.settings,
    // @ts-expect-error a handler that expects an input the contract does not send
    put: async ({ input }: { input: { key: number } }) => implementation.settings.get({ input: { key: String(input.key) } } as never),
  },
};

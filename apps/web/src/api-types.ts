import type { AppRouter } from "@ops/contract";
import type { inferRouterInputs, inferRouterOutputs } from "@trpc/server";

export type Outputs = inferRouterOutputs<AppRouter>;
export type Inputs = inferRouterInputs<AppRouter>;
export type Health = Outputs["dispatch"]["health"];
export type Worker = Health["workers"][number];
export type DispatchingRow = Health["dispatching"][number];
export type Task = Outputs["tasks"]["get"];
export type Agent = Outputs["agents"]["list"][number];
export type Alert = Outputs["alerts"]["list"][number];
export type Setting = Outputs["settings"]["list"][number];
export type ContextEntry = Outputs["context"]["list"][number];

import { useQuery } from "@tanstack/react-query";
import { useSession } from "./session.tsx";
import { useTRPC } from "./trpc.ts";

export function useAgents() {
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  return useQuery(trpc.agents.list.queryOptions({ workspace_id: workspaceId }, { staleTime: 30_000 }));
}

/**
 * What the app asks of health: the counts, problems and per-agent coverage,
 * without the worker list (the Workers table pages through dispatch.workers;
 * a fleet's list would be megabytes, issue 12). One input, so every page
 * shares one cached answer.
 */
export const HEALTH_INPUT = { workers_limit: 0 } as const;

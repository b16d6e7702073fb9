import { useQuery } from "@tanstack/react-query";
import { useSession } from "./session.tsx";
import { useTRPC } from "./trpc.ts";

export function useAgents() {
  const trpc = useTRPC();
  const { workspaceId } = useSession();
  return useQuery(trpc.agents.list.queryOptions({ workspace_id: workspaceId }, { staleTime: 30_000 }));
}

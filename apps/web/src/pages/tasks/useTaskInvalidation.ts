import { useQueryClient } from "@tanstack/react-query";
import { useTRPC } from "../../trpc.ts";

/** After anything changes a task: its page, lists, entries and the dispatch health. */
export function useTaskInvalidation() {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  return () => {
    void queryClient.invalidateQueries(trpc.tasks.pathFilter());
    void queryClient.invalidateQueries(trpc.context.pathFilter());
    void queryClient.invalidateQueries(trpc.comments.pathFilter());
    void queryClient.invalidateQueries(trpc.timeLogs.pathFilter());
    void queryClient.invalidateQueries(trpc.dispatch.health.pathFilter());
    void queryClient.invalidateQueries(trpc.alerts.pathFilter());
  };
}

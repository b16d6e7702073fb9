import { useQuery } from "@tanstack/react-query";
import { useT } from "../i18n/index.tsx";
import { useTRPC } from "../trpc.ts";
import { QueryView } from "./States.tsx";

/** The engine's own words on why a task is (not) being dispatched right now. */
export function ExplainPanel({ taskId }: { taskId: number }) {
  const t = useT();
  const trpc = useTRPC();
  const explanation = useQuery(trpc.tasks.explain.queryOptions({ id: taskId }, { refetchInterval: 5_000 }));
  return (
    <div className="explain" aria-live="polite">
      <QueryView query={explanation}>
        {(e) =>
          e.dispatchable_now ? (
            <p className="ok-text">{t("queued.dispatchable")}</p>
          ) : (
            <>
              <p>{t("queued.notDispatchable")}</p>
              <ul>
                {e.reasons.map((r) => (
                  <li key={`${r.code}:${r.message}`}>
                    <span className="mono">{r.code}</span>: {r.message}
                  </li>
                ))}
              </ul>
            </>
          )
        }
      </QueryView>
    </div>
  );
}

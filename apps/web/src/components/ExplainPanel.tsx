import { useQuery } from "@tanstack/react-query";
import { useT } from "../i18n/index.tsx";
import { problemText } from "../i18n/render.ts";
import { useTRPC } from "../trpc.ts";
import { QueryView } from "./States.tsx";

/** Why a task is (not) being dispatched right now, from the engine's reason codes. */
export function ExplainPanel({ taskId, refetchMs = 5_000 }: { taskId: number; refetchMs?: number }) {
  const t = useT();
  const trpc = useTRPC();
  const explanation = useQuery(trpc.tasks.explain.queryOptions({ id: taskId }, { refetchInterval: refetchMs }));
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
                  <li key={`${r.code}:${r.message}`} data-code={r.code}>
                    {problemText(t, r, "reason")}
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

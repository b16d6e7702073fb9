import { CANCELLABLE_STATUSES, isStatusIn, type TRun, type TTask } from "@ops/contract";
import { useQuery, useQueryClient } from "@tanstack/react-query";
import { useEffect, useState } from "react";
import { Section } from "../../components/Section.tsx";
import { QueryView } from "../../components/States.tsx";
import { formatDateTime } from "../../format.ts";
import { type MessageKey, useI18n } from "../../i18n/index.tsx";
import { useTRPC } from "../../trpc.ts";
import { commandLine, FieldList, formatDuration } from "./DispatchOutput.tsx";
import { RunOutput } from "./RunOutput.tsx";
import "./runs.css";

const OUTCOME_BADGE: Record<NonNullable<TRun["outcome"]>, string> = {
  review: "badge-ok",
  failed: "badge-bad",
  early_exit: "badge-bad",
  timed_out: "badge-bad",
  cancelled: "badge-warn",
  lost: "badge-warn",
  refused: "badge-warn",
};

export function OutcomeBadge({ run }: { run: TRun }) {
  const { t } = useI18n();
  if (!run.outcome) return <span className="badge status-doing">{t("runs.running")}</span>;
  return <span className={`badge ${OUTCOME_BADGE[run.outcome]}`}>{t(`runs.outcome.${run.outcome}` as MessageKey)}</span>;
}

/** Every run of the task, newest first; the chosen one (the newest by default) with its fields and its output. */
export function TaskRuns({ task }: { task: TTask }) {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  // Queued or running: a run may start or end any moment.
  const live = isStatusIn(CANCELLABLE_STATUSES, task.status);
  const runs = useQuery(trpc.runs.list.queryOptions({ id: task.id, limit: 50 }, { refetchInterval: live ? 2000 : 10_000 }));
  const [chosen, setChosen] = useState<number | undefined>(undefined);
  // The run list moves first (it polls faster while the task is live): when the newest run starts or ends, the task has moved too.
  const queryClient = useQueryClient();
  const newest = runs.data?.[0];
  const milestone = newest ? `${newest.id}:${newest.started_at ?? ""}:${newest.outcome ?? ""}` : "";
  useEffect(() => {
    if (milestone) void queryClient.invalidateQueries(trpc.tasks.get.queryFilter({ id: task.id }));
  }, [milestone, queryClient, trpc, task.id]);
  return (
    <Section id="runs" title={t("runs.title")}>
      <QueryView query={runs} isEmpty={(list) => list.length === 0} empty={t("runs.empty")}>
        {(list) => {
          const selected = list.find((r) => r.id === chosen) ?? list[0]!;
          return (
            <>
              <div className="table-wrap">
                <table className="runs-table">
                  <thead>
                    <tr>
                      <th scope="col">{t("runs.attempt")}</th>
                      <th scope="col">{t("runs.outcome")}</th>
                      <th scope="col">{t("runs.worker")}</th>
                      <th scope="col">{t("runs.startedAt")}</th>
                      <th scope="col">{t("runs.duration")}</th>
                      <th scope="col">{t("runs.exit")}</th>
                    </tr>
                  </thead>
                  <tbody>
                    {list.map((run) => (
                      <tr key={run.id} className={run.id === selected.id ? "run-selected" : undefined}>
                        <td>
                          <button type="button" className="btn btn-small" aria-pressed={run.id === selected.id} onClick={() => setChosen(run.id)}>
                            #{run.attempt}
                          </button>
                        </td>
                        <td>
                          <OutcomeBadge run={run} />
                        </td>
                        <td className="mono">{run.worker_id}</td>
                        <td>{formatDateTime(run.started_at ?? run.claimed_at, lang)}</td>
                        <td>{formatDuration(run.duration_ms)}</td>
                        <td>{run.exit_code === null && run.signal === null ? "—" : `${run.exit_code ?? "—"}${run.signal ? ` (${run.signal})` : ""}`}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              </div>
              <RunFields run={selected} />
              <RunOutput key={selected.id} taskId={task.id} run={selected} />
            </>
          );
        }}
      </QueryView>
    </Section>
  );
}

function RunFields({ run }: { run: TRun }) {
  const { t } = useI18n();
  const rows: Array<[string, string, boolean]> = [
    [t("runs.agent"), `${run.agent_slug ?? "—"}${run.model ? ` · ${run.model}` : ""}`, false],
    [t("runs.command"), commandLine(run.command), true],
    [t("runs.pid"), run.pid === null ? "—" : String(run.pid), false],
    [t("runs.limit"), run.timeout_minutes === null ? "—" : t("runs.minutes", { n: run.timeout_minutes }), false],
    [t("runs.aiMinutes"), run.ai_minutes === null ? "—" : t("runs.minutes", { n: run.ai_minutes }), false],
    [t("runs.logPath"), run.log_path ?? "—", true],
    [t("runs.errLogPath"), run.err_log_path ?? "—", true],
  ];
  return <FieldList rows={rows} testId="run-fields" />;
}

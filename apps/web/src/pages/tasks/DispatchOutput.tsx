import type { TTask } from "@ops/contract";
import { Section } from "../../components/Section.tsx";
import { formatDateTime } from "../../format.ts";
import { blockedReasonText } from "../../i18n/render.ts";
import { useI18n } from "../../i18n/index.tsx";
import "./runs.css";

/** A duration in words: 61500 → "1 min 1.5 s". */
export function formatDuration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return "—";
  const seconds = ms / 1000;
  if (seconds < 60) return `${seconds.toFixed(1)} s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

const LONG_ARG = 100;

/**
 * An argv as one readable line: arguments with spaces quoted, a long one (the
 * prompt) cut to its start and its length — the whole text is in the run's
 * .prompt.md on the worker.
 */
export function commandLine(argv: readonly string[] | null | undefined): string {
  if (!argv || argv.length === 0) return "—";
  return argv
    .map((arg) => {
      const short = arg.length > LONG_ARG ? `${arg.slice(0, 60).replace(/\s+/g, " ")}… (${arg.length})` : arg;
      return /[\s"']/.test(short) || short === "" ? JSON.stringify(short) : short;
    })
    .join(" ");
}

/** Label, value and whether the value is code (paths, argv), as a definition list. */
export function FieldList({ rows, testId }: { rows: Array<[string, string, boolean]>; testId: string }) {
  return (
    <dl className="details run-fields" data-testid={testId}>
      {rows.map(([label, value, mono]) => (
        <div key={label}>
          <dt>{label}</dt>
          <dd className={mono ? "mono" : undefined}>{value}</dd>
        </div>
      ))}
    </dl>
  );
}

/** What the launcher recorded of the last dispatch, as fields instead of a JSON dump. */
export function DispatchOutput({ task }: { task: TTask }) {
  const { t, lang } = useI18n();
  const out = task.dispatch_output;
  const rows: Array<[string, string, boolean]> = out
    ? [
        [t("runs.worker"), out.worker_id ?? task.claimed_by ?? "—", true],
        [t("runs.pid"), out.pid === undefined ? "—" : String(out.pid), false],
        [t("runs.command"), commandLine(out.command), true],
        [t("runs.startedAt"), typeof out.started_at === "string" ? formatDateTime(out.started_at, lang) : "—", false],
        [t("runs.exit"), out.exit_code === undefined && out.signal === undefined ? "—" : `${out.exit_code ?? "—"}${out.signal ? ` (${out.signal})` : ""}`, false],
        [t("runs.duration"), formatDuration(out.duration_ms), false],
        [t("runs.logPath"), out.log_path ?? "—", true],
        [t("runs.errLogPath"), out.err_log_path ?? "—", true],
        // The launcher's reason is data (the runbook's signatures): said in words when the system wrote it.
        ...(out.error ? ([[t("runs.error"), blockedReasonText(t, out.error).text, false]] as Array<[string, string, boolean]>) : []),
      ]
    : [];
  return (
    <Section id="dispatch-output" title={t("task.dispatchOutput")}>
      {out ? (
        <FieldList rows={rows} testId="dispatch-output" />
      ) : (
        <p className="muted">{t("task.dispatchOutputEmpty")}</p>
      )}
    </Section>
  );
}

import type { TOutputChunk, TRun } from "@ops/contract";
import { useEffect, useLayoutEffect, useRef, useState } from "react";
import { ErrorBox } from "../../components/States.tsx";
import { useI18n } from "../../i18n/index.tsx";
import { useTRPCClient } from "../../trpc.ts";
import { AnsiParser, ansiClasses, type Segment } from "./ansi.ts";
import "./runs.css";

/** New output shows up within this while the run goes on (the launcher uploads every half second). */
const POLL_MS = 1000;
const PAGE_KB = 512;

interface Piece {
  key: number;
  kind: TOutputChunk["stream"];
  segments: Segment[];
}

/** A run's output as it arrives, page after page from the offset already read. */
function useLiveOutput(taskId: number, run: Pick<TRun, "id">) {
  const client = useTRPCClient();
  const [pieces, setPieces] = useState<Piece[]>([]);
  const [done, setDone] = useState(false);
  const [error, setError] = useState<unknown>(null);
  useEffect(() => {
    let stopped = false;
    let offset = 0;
    let key = 0;
    const parsers = { stdout: new AnsiParser(), stderr: new AnsiParser() };
    setPieces([]);
    setDone(false);
    setError(null);
    const tick = async () => {
      while (!stopped) {
        try {
          const page = await client.runs.output.query({ id: taskId, run: run.id, offset, limit_kb: PAGE_KB });
          if (stopped) return;
          setError(null);
          if (page.chunks.length > 0) {
            const added = page.chunks.map((c) => ({
              key: key++,
              kind: c.stream,
              segments: c.stream === "truncated" ? [{ text: c.text, style: {} }] : parsers[c.stream].push(c.text),
            }));
            setPieces((before) => [...before, ...added]);
          }
          const read = page.next_offset - offset;
          offset = page.next_offset;
          if (page.done) {
            setDone(true);
            return;
          }
          // A full page: more is already there, read it at once.
          if (read >= PAGE_KB * 1024) continue;
        } catch (e) {
          if (stopped) return;
          setError(e);
        }
        await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      }
    };
    void tick();
    return () => {
      stopped = true;
    };
  }, [client, taskId, run.id]);
  return { pieces, done, error };
}

/**
 * The live output of one run: stdout and stderr in arrival order (stderr in
 * its own colour), terminal colours rendered, following the end unless the
 * reader scrolled up, with a download of everything kept.
 */
export function RunOutput({ taskId, run }: { taskId: number; run: TRun }) {
  const { t } = useI18n();
  const { pieces, done, error } = useLiveOutput(taskId, run);
  const box = useRef<HTMLDivElement>(null);
  const [follow, setFollow] = useState(true);
  useLayoutEffect(() => {
    if (follow && box.current && pieces.length > 0) box.current.scrollTop = box.current.scrollHeight;
  }, [pieces, follow]);
  const onScroll = () => {
    const el = box.current;
    if (!el) return;
    setFollow(el.scrollTop + el.clientHeight >= el.scrollHeight - 8);
  };
  const download = `/api/tasks/${taskId}/runs/${run.id}/output?format=text&limit_kb=1048576`;
  return (
    <div className="run-output-view">
      <div className="run-output-legend">
        <span>{t("runs.legendStdout")}</span>
        <span className="legend-stderr">{t("runs.legendStderr")}</span>
        <span className="muted small" role="status" data-testid="run-output-state">
          {done ? t("runs.outputDone") : t("runs.outputLive")}
        </span>
        {run.output.truncated ? <span className="badge badge-warn">{t("runs.truncated")}</span> : null}
        {run.output.pruned ? <span className="badge">{t("runs.pruned")}</span> : null}
        {!follow ? (
          <button type="button" className="btn btn-small" onClick={() => setFollow(true)}>
            {t("runs.followTail")}
          </button>
        ) : null}
        <a href={download} download={`task-${taskId}-run-${run.attempt}.log`}>
          {t("runs.download")}
        </a>
      </div>
      {/* biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling log must be reachable by keyboard to scroll it */}
      <div ref={box} className="run-output" data-testid="run-output" onScroll={onScroll} tabIndex={0} role="log" aria-label={t("runs.output")}>
        {pieces.length === 0 ? <span className="muted">{done ? t("runs.noOutput") : t("runs.waitingOutput")}</span> : null}
        {pieces.map((piece) => (
          <span key={piece.key} className={piece.kind === "stderr" ? "out-stderr" : piece.kind === "truncated" ? "out-marker" : "out-stdout"} data-stream={piece.kind}>
            {piece.segments.map((s, i) => {
              const classes = ansiClasses(s.style);
              return classes ? (
                // biome-ignore lint/suspicious/noArrayIndexKey: segments of one chunk never move
                <span key={i} className={classes}>
                  {s.text}
                </span>
              ) : (
                s.text
              );
            })}
          </span>
        ))}
      </div>
      {error ? <ErrorBox error={error} /> : null}
    </div>
  );
}

import type { TTask } from "@ops/contract";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type FormEvent, useState } from "react";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { useTRPC } from "../../trpc.ts";
import { useTaskInvalidation } from "./useTaskInvalidation.ts";

/** Launchers, agents and the watchdog add entries while the page is open. */
const ENTRIES_REFRESH_MS = 10_000;
const CONTEXT_KINDS = ["note", "deliverable", "blocker", "checkpoint"] as const;

function EntryHead({ who, kind, when }: { who: string | null; kind?: string; when: string }) {
  const { lang } = useI18n();
  return (
    <p className="entry-head">
      {kind ? <span className="badge">{kind}</span> : null}
      <strong>{who ?? "—"}</strong> <span className="muted small">{formatDateTime(when, lang)}</span>
    </p>
  );
}

export function ContextSection({ taskId }: { taskId: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const entries = useQuery(trpc.context.list.queryOptions({ task_id: taskId }, { refetchInterval: ENTRIES_REFRESH_MS }));
  const invalidate = useTaskInvalidation();
  const add = useMutation(trpc.context.add.mutationOptions({ onSuccess: invalidate }));
  const [kind, setKind] = useState<string>("deliverable");
  const [body, setBody] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ task_id: taskId, kind, body }, { onSuccess: () => setBody("") });
  };
  return (
    <Section id="context" title={t("task.context")}>
      <QueryView query={entries} isEmpty={(list) => list.length === 0} empty={t("task.contextEmpty")}>
        {(list) => (
          <ol className="entries">
            {list.map((e) => (
              <li key={e.id} className={`entry entry-${e.kind}`}>
                <EntryHead who={`${e.author ?? e.source} (${e.source})`} kind={e.kind} when={e.created_at} />
                <p className="prewrap">{e.body}</p>
              </li>
            ))}
          </ol>
        )}
      </QueryView>
      <form className="entry-form" onSubmit={submit}>
        <label className="inline-field">
          <span>{t("task.kind")}</span>
          <select value={kind} onChange={(e) => setKind(e.target.value)}>
            {CONTEXT_KINDS.map((k) => (
              <option key={k} value={k}>
                {k}
              </option>
            ))}
          </select>
        </label>
        <label className="field field-grow">
          <span>{t("task.body")}</span>
          <textarea name="context-body" rows={3} required value={body} onChange={(e) => setBody(e.target.value)} />
        </label>
        <button type="submit" className="btn" disabled={add.isPending || !body.trim()}>
          {t("common.add")}
        </button>
        {add.error ? <ErrorBox error={add.error} /> : null}
      </form>
    </Section>
  );
}

export function CommentsSection({ taskId }: { taskId: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const comments = useQuery(trpc.comments.list.queryOptions({ task_id: taskId }, { refetchInterval: ENTRIES_REFRESH_MS }));
  const invalidate = useTaskInvalidation();
  const add = useMutation(trpc.comments.add.mutationOptions({ onSuccess: invalidate }));
  const [body, setBody] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate({ task_id: taskId, body }, { onSuccess: () => setBody("") });
  };
  return (
    <Section id="comments" title={t("task.comments")}>
      <QueryView query={comments} isEmpty={(list) => list.length === 0} empty={t("task.commentsEmpty")}>
        {(list) => (
          <ol className="entries">
            {list.map((c) => (
              <li key={c.id} className="entry">
                <EntryHead who={c.author} {...(c.kind === "ai-dispatch-log" ? { kind: c.kind } : {})} when={c.created_at} />
                <p className="prewrap">{c.body}</p>
              </li>
            ))}
          </ol>
        )}
      </QueryView>
      <form className="entry-form" onSubmit={submit}>
        <label className="field field-grow">
          <span>{t("task.comment")}</span>
          <textarea name="comment-body" rows={2} required value={body} onChange={(e) => setBody(e.target.value)} />
        </label>
        <button type="submit" className="btn" disabled={add.isPending || !body.trim()}>
          {t("common.add")}
        </button>
        {add.error ? <ErrorBox error={add.error} /> : null}
      </form>
    </Section>
  );
}

export function TimeLogsSection({ taskId }: { taskId: number }) {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  const logs = useQuery(trpc.timeLogs.list.queryOptions({ task_id: taskId }, { refetchInterval: ENTRIES_REFRESH_MS }));
  const invalidate = useTaskInvalidation();
  const add = useMutation(trpc.timeLogs.add.mutationOptions({ onSuccess: invalidate }));
  const [minutes, setMinutes] = useState("");
  const [source, setSource] = useState<"human" | "ai">("human");
  const [note, setNote] = useState("");
  const submit = (event: FormEvent) => {
    event.preventDefault();
    add.mutate(
      { task_id: taskId, minutes: Number(minutes), source, note: note.trim() || null },
      {
        onSuccess: () => {
          setMinutes("");
          setNote("");
        },
      },
    );
  };
  const valid = /^\d+$/.test(minutes) && Number(minutes) >= 1 && Number(minutes) <= 10_080;
  return (
    <Section id="time-logs" title={t("task.timeLogs")}>
      <QueryView query={logs} isEmpty={(list) => list.length === 0} empty={t("task.timeLogsEmpty")}>
        {(list) => (
          <>
            <div className="table-wrap">
              <table>
                <thead>
                  <tr>
                    <th scope="col">{t("task.minutes")}</th>
                    <th scope="col">{t("task.source")}</th>
                    <th scope="col">{t("task.note")}</th>
                    <th scope="col">{t("tasks.colUpdated")}</th>
                  </tr>
                </thead>
                <tbody>
                  {list.map((l) => (
                    <tr key={l.id}>
                      <td className="num">{l.minutes}</td>
                      <td>{l.source}</td>
                      <td>{l.note ?? ""}</td>
                      <td>
                        {l.author ?? ""} {formatDateTime(l.created_at, lang)}
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <p className="muted small">
              {t("task.totalMinutes", {
                ai: list.filter((l) => l.source === "ai").reduce((s, l) => s + l.minutes, 0),
                human: list.filter((l) => l.source === "human").reduce((s, l) => s + l.minutes, 0),
              })}
            </p>
          </>
        )}
      </QueryView>
      <form className="entry-form" onSubmit={submit}>
        <label className="inline-field">
          <span>{t("task.minutes")}</span>
          <input name="minutes" inputMode="numeric" className="input-narrow" required value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        </label>
        <label className="inline-field">
          <span>{t("task.source")}</span>
          <select value={source} onChange={(e) => setSource(e.target.value as "human" | "ai")}>
            <option value="human">human</option>
            <option value="ai">ai</option>
          </select>
        </label>
        <label className="field field-grow">
          <span>{t("task.note")}</span>
          <input name="time-note" value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
        <button type="submit" className="btn" disabled={add.isPending || !valid}>
          {t("common.add")}
        </button>
        {add.error ? <ErrorBox error={add.error} /> : null}
      </form>
    </Section>
  );
}

/** Every blocker context entry, newest first, with the current block on top. */
export function BlockerHistory({ task }: { task: TTask }) {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  const entries = useQuery(trpc.context.list.queryOptions({ task_id: task.id }, { refetchInterval: ENTRIES_REFRESH_MS }));
  return (
    <Section id="blockers" title={t("task.blockers")}>
      {task.blocked ? <p className="pill pill-bad">{t("task.currentBlock", { reason: task.blocked_reason ?? t("common.none") })}</p> : null}
      <QueryView
        query={entries}
        isEmpty={(list) => !list.some((e) => e.kind === "blocker")}
        empty={task.blocked ? undefined : t("task.blockersEmpty")}
      >
        {(list) => (
          <ol className="entries">
            {list
              .filter((e) => e.kind === "blocker")
              .reverse()
              .map((e) => (
                <li key={e.id} className="entry entry-blocker">
                  <p className="entry-head">
                    <span className="muted small">{formatDateTime(e.created_at, lang)}</span> · {e.source}
                  </p>
                  <p className="prewrap">{e.body}</p>
                </li>
              ))}
          </ol>
        )}
      </QueryView>
    </Section>
  );
}

import { type TTask, type TTimeLogSource, ZLoggedMinutes } from "@ops/contract";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
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

/** The form under each list: its fields, Add (once the entry is complete, not while it is sent), and the API's refusal. */
function AddEntryForm({
  onAdd,
  complete,
  sending,
  children,
}: {
  onAdd(): void;
  complete: boolean;
  sending: { isPending: boolean; error: unknown };
  children: ReactNode;
}) {
  const { t } = useI18n();
  return (
    <form
      className="entry-form"
      onSubmit={(event) => {
        event.preventDefault();
        onAdd();
      }}
    >
      {children}
      <button type="submit" className="btn" disabled={sending.isPending || !complete}>
        {t("common.add")}
      </button>
      {sending.error ? <ErrorBox error={sending.error} /> : null}
    </form>
  );
}

/** The text of a context entry or a comment. */
function BodyField(props: { label: string; name: string; rows: number; value: string; onChange(body: string): void }) {
  return (
    <label className="field field-grow">
      <span>{props.label}</span>
      <textarea name={props.name} rows={props.rows} required value={props.value} onChange={(e) => props.onChange(e.target.value)} />
    </label>
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
      <AddEntryForm
        onAdd={() => add.mutate({ task_id: taskId, kind, body }, { onSuccess: () => setBody("") })}
        complete={Boolean(body.trim())}
        sending={add}
      >
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
        <BodyField label={t("task.body")} name="context-body" rows={3} value={body} onChange={setBody} />
      </AddEntryForm>
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
      <AddEntryForm
        onAdd={() => add.mutate({ task_id: taskId, body }, { onSuccess: () => setBody("") })}
        complete={Boolean(body.trim())}
        sending={add}
      >
        <BodyField label={t("task.comment")} name="comment-body" rows={2} value={body} onChange={setBody} />
      </AddEntryForm>
    </Section>
  );
}

/** Whole minutes as typed, within what one time log may hold. */
const isLoggableMinutes = (text: string) => /^\d+$/.test(text) && ZLoggedMinutes.safeParse(Number(text)).success;

export function TimeLogsSection({ taskId }: { taskId: number }) {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  const logs = useQuery(trpc.timeLogs.list.queryOptions({ task_id: taskId }, { refetchInterval: ENTRIES_REFRESH_MS }));
  const invalidate = useTaskInvalidation();
  const add = useMutation(trpc.timeLogs.add.mutationOptions({ onSuccess: invalidate }));
  const [minutes, setMinutes] = useState("");
  const [source, setSource] = useState<TTimeLogSource>("human");
  const [note, setNote] = useState("");
  const onAdd = () =>
    add.mutate(
      { task_id: taskId, minutes: Number(minutes), source, note: note.trim() || null },
      {
        onSuccess: () => {
          setMinutes("");
          setNote("");
        },
      },
    );
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
      <AddEntryForm onAdd={onAdd} complete={isLoggableMinutes(minutes)} sending={add}>
        <label className="inline-field">
          <span>{t("task.minutes")}</span>
          <input name="minutes" inputMode="numeric" className="input-narrow" required value={minutes} onChange={(e) => setMinutes(e.target.value)} />
        </label>
        <label className="inline-field">
          <span>{t("task.source")}</span>
          <select value={source} onChange={(e) => setSource(e.target.value as TTimeLogSource)}>
            <option value="human">human</option>
            <option value="ai">ai</option>
          </select>
        </label>
        <label className="field field-grow">
          <span>{t("task.note")}</span>
          <input name="time-note" value={note} onChange={(e) => setNote(e.target.value)} />
        </label>
      </AddEntryForm>
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

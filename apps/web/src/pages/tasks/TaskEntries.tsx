import { type TTask, type TTimeLogSource, ZLoggedMinutes } from "@ops/contract";
import { useMutation, useQuery } from "@tanstack/react-query";
import { type ReactNode, useState } from "react";
import { Section } from "../../components/Section.tsx";
import { ErrorBox, QueryView } from "../../components/States.tsx";
import { BlockedReason } from "../../components/Reason.tsx";
import { formatDateTime } from "../../format.ts";
import { useI18n } from "../../i18n/index.tsx";
import { contextKindLabel, sourceLabel } from "../../i18n/words.ts";
import { useTRPC } from "../../trpc.ts";
import { useTaskInvalidation } from "./useTaskInvalidation.ts";

/** Kinds a person picks from; a note is the everyday one (a deliverable is a claim the done guard counts). */
const CONTEXT_KINDS = ["note", "deliverable", "blocker", "checkpoint"] as const;

function EntryHead({ who, kind, when }: { who: string | null; kind?: string; when: string }) {
  const { lang } = useI18n();
  return (
    <p className="entry-head">
      {kind ? (
        <span className="badge" data-kind={kind}>
          {kind}
        </span>
      ) : null}
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

export function ContextSection({ taskId, refetchMs }: { taskId: number; refetchMs: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const entries = useQuery(trpc.context.list.queryOptions({ task_id: taskId }, { refetchInterval: refetchMs }));
  const invalidate = useTaskInvalidation();
  const add = useMutation(trpc.context.add.mutationOptions({ onSuccess: invalidate }));
  const [kind, setKind] = useState<string>("note");
  const [body, setBody] = useState("");
  return (
    <Section id="context" title={t("task.context")}>
      {/* Blocker entries have their own history (BlockerHistory): listed once, there. */}
      <QueryView query={entries} isEmpty={(list) => !list.some((e) => e.kind !== "blocker")} empty={t("task.contextEmpty")}>
        {(list) => (
          <ol className="entries">
            {list.filter((e) => e.kind !== "blocker").map((e) => (
              <li key={e.id} className={`entry entry-${e.kind}`}>
                <EntryHead who={`${e.author ?? sourceLabel(t, e.source)} (${sourceLabel(t, e.source)})`} kind={contextKindLabel(t, e.kind)} when={e.created_at} />
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
                {contextKindLabel(t, k)}
              </option>
            ))}
          </select>
        </label>
        <BodyField label={t("task.body")} name="context-body" rows={3} value={body} onChange={setBody} />
      </AddEntryForm>
    </Section>
  );
}

export function CommentsSection({ taskId, refetchMs }: { taskId: number; refetchMs: number }) {
  const { t } = useI18n();
  const trpc = useTRPC();
  const comments = useQuery(trpc.comments.list.queryOptions({ task_id: taskId }, { refetchInterval: refetchMs }));
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
                <EntryHead who={c.author} {...(c.kind === "ai-dispatch-log" ? { kind: t("commentKind.ai-dispatch-log") } : {})} when={c.created_at} />
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

export function TimeLogsSection({ taskId, refetchMs }: { taskId: number; refetchMs: number }) {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  const logs = useQuery(trpc.timeLogs.list.queryOptions({ task_id: taskId }, { refetchInterval: refetchMs }));
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
                      <td>{sourceLabel(t, l.source)}</td>
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
            <option value="human">{sourceLabel(t, "human")}</option>
            <option value="ai">{sourceLabel(t, "ai")}</option>
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

/**
 * Every blocker entry, newest first. The current block is said once, in the
 * banner at the top: the entry that recorded it is marked and shows only the
 * evidence it added.
 */
export function BlockerHistory({ task, refetchMs }: { task: TTask; refetchMs: number }) {
  const { t, lang } = useI18n();
  const trpc = useTRPC();
  const entries = useQuery(trpc.context.list.queryOptions({ task_id: task.id }, { refetchInterval: refetchMs }));
  const current = task.blocked && task.blocked_reason ? task.blocked_reason : undefined;
  return (
    <Section id="blockers" title={t("task.blockers")}>
      <QueryView query={entries} isEmpty={(list) => !list.some((e) => e.kind === "blocker")} empty={t("task.blockersEmpty")}>
        {(list) => {
          const blockers = list.filter((e) => e.kind === "blocker").reverse();
          const currentId = current ? blockers.find((e) => e.body.startsWith(current))?.id : undefined;
          return (
            <ol className="entries">
              {blockers.map((e) => {
                const isCurrent = e.id === currentId && current !== undefined;
                const rest = isCurrent ? e.body.slice(current.length).replace(/^[.\s]+/, "") : e.body;
                return (
                  <li key={e.id} className="entry entry-blocker" data-current={isCurrent || undefined}>
                    <p className="entry-head">
                      <span className="muted small">{formatDateTime(e.created_at, lang)}</span> · {sourceLabel(t, e.source)}
                      {isCurrent ? <span className="badge badge-bad">{t("task.currentBlock")}</span> : null}
                    </p>
                    {isCurrent ? null : (
                      <p className="prewrap">
                        <BlockedReason reason={e.body.split("\n", 1)[0]!} />
                        {e.body.includes("\n") ? `\n${e.body.slice(e.body.indexOf("\n") + 1)}` : ""}
                      </p>
                    )}
                    {isCurrent && rest ? <p className="prewrap muted">{rest}</p> : null}
                  </li>
                );
              })}
            </ol>
          );
        }}
      </QueryView>
    </Section>
  );
}

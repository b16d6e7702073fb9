import type { ReactNode } from "react";
import { useT } from "../i18n/index.tsx";
import { describeError } from "../i18n/words.ts";

export function Loading({ label }: { label?: string }) {
  const t = useT();
  return (
    <p className="state state-loading" role="status" aria-live="polite">
      {label ?? t("state.loading")}
    </p>
  );
}

export function Empty({ children }: { children?: ReactNode }) {
  const t = useT();
  return <p className="state state-empty">{children ?? t("state.empty")}</p>;
}

/** An error in words, from the API's code and params; the server's own words only for a code this app does not know. */
export function ErrorBox({ error, onRetry, children }: { error: unknown; onRetry?: () => void; children?: ReactNode }) {
  const t = useT();
  const { summary, detail, code } = describeError(error, t);
  return (
    <div className="error-box" role="alert" data-code={code}>
      <p className="error-summary">{summary}</p>
      {detail ? <p className="error-detail">{detail}</p> : null}
      {children}
      {onRetry ? (
        <button type="button" className="btn" onClick={onRetry}>
          {t("state.retry")}
        </button>
      ) : null}
    </div>
  );
}

interface QueryLike<T> {
  data: T | undefined;
  error: unknown;
  isPending: boolean;
  refetch: () => unknown;
}

/** Loading, error and empty states for one query; renders children with the data otherwise. */
export function QueryView<T>({
  query,
  empty,
  isEmpty,
  children,
}: {
  query: QueryLike<T>;
  empty?: ReactNode;
  isEmpty?: (data: T) => boolean;
  children: (data: T) => ReactNode;
}) {
  if (query.isPending) return <Loading />;
  if (query.data === undefined) return <ErrorBox error={query.error} onRetry={() => void query.refetch()} />;
  if (isEmpty?.(query.data)) return <Empty>{empty}</Empty>;
  return (
    <>
      {query.error ? <ErrorBox error={query.error} onRetry={() => void query.refetch()} /> : null}
      {children(query.data)}
    </>
  );
}

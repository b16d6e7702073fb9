import { type ReactNode, useEffect, useId, useRef } from "react";
import { useT } from "../i18n/index.tsx";

/**
 * An inline confirmation. Focus goes to the safe choice (Cancel), so a
 * reflexive Enter does nothing harmful; Escape cancels too.
 */
export function Confirm({
  title,
  children,
  confirmLabel,
  onConfirm,
  onCancel,
  busy,
  danger = true,
}: {
  title: string;
  children?: ReactNode;
  confirmLabel: string;
  onConfirm(): void;
  onCancel(): void;
  busy?: boolean;
  danger?: boolean;
}) {
  const t = useT();
  const cancelRef = useRef<HTMLButtonElement>(null);
  const titleId = useId();
  useEffect(() => cancelRef.current?.focus(), []);
  return (
    <div
      className="confirm"
      role="alertdialog"
      aria-labelledby={titleId}
      onKeyDown={(e) => {
        if (e.key === "Escape") onCancel();
      }}
    >
      <p id={titleId} className="confirm-title">
        {title}
      </p>
      {children}
      <div className="row">
        <button ref={cancelRef} type="button" className="btn" onClick={onCancel}>
          {t("common.cancel")}
        </button>
        <button type="button" className={danger ? "btn btn-danger" : "btn btn-primary"} onClick={onConfirm} disabled={busy}>
          {confirmLabel}
        </button>
      </div>
    </div>
  );
}

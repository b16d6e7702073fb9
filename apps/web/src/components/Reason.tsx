import { useT } from "../i18n/index.tsx";
import { alertText, blockedReasonText } from "../i18n/render.ts";

/** The exact stored text behind words the app chose, one click away (to copy, or grep the runbook for). */
function Stored({ text }: { text: string | undefined }) {
  const t = useT();
  if (!text) return null;
  return (
    <details className="stored">
      <summary>{t("common.storedText")}</summary>
      <p className="mono prewrap">{text}</p>
    </details>
  );
}

/** A task's blocked reason: the system's reasons in words, a person's as written. */
export function BlockedReason({ reason }: { reason: string | null }) {
  const t = useT();
  const { text, stored } = blockedReasonText(t, reason);
  return (
    <>
      <span className="reason-text">{text}</span>
      <Stored text={stored} />
    </>
  );
}

/** An alert's message, its reason in words when the system wrote it. */
export function AlertMessage({ message }: { message: string }) {
  const t = useT();
  const { text, stored } = alertText(t, message);
  return (
    <>
      <span className="reason-text">{text}</span>
      <Stored text={stored} />
    </>
  );
}

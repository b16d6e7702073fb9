import { useRef, useState } from "react";
import { useT } from "../i18n/index.tsx";

/** A shell command to copy as it is: selectable text, and a button that copies it. */
export function CopyCommand({ command, testId }: { command: string; testId?: string }) {
  const t = useT();
  const ref = useRef<HTMLElement>(null);
  const [copied, setCopied] = useState(false);
  const copy = async () => {
    try {
      await navigator.clipboard.writeText(command);
      setCopied(true);
    } catch {
      // No clipboard (an insecure origin): select the text for Ctrl+C instead.
      const range = document.createRange();
      if (ref.current) range.selectNodeContents(ref.current);
      window.getSelection()?.removeAllRanges();
      window.getSelection()?.addRange(range);
    }
  };
  return (
    <div className="copy-command">
      <pre className="code">
        <code ref={ref} data-testid={testId}>
          {command}
        </code>
      </pre>
      <div className="row">
        <button type="button" className="btn btn-small" onClick={() => void copy()}>
          {t("common.copy")}
        </button>
        {copied ? (
          <span className="ok-text small" role="status">
            {t("common.copied")}
          </span>
        ) : null}
      </div>
    </div>
  );
}

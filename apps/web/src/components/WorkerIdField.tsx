import { WORKER_ID_PATTERN } from "@ops/contract";
import { htmlPattern } from "../html-pattern.ts";
import { useT } from "../i18n/index.tsx";

/** Whether the API will take this as a launcher's worker id (the contract's pattern and length). */
export const isWorkerId = (value: string) => WORKER_ID_PATTERN.test(value) && value.length <= 200;

/** The worker id a worker token is bound to, checked in the browser as the API checks it. */
export function WorkerIdField({ value, onChange }: { value: string; onChange: (value: string) => void }) {
  const t = useT();
  return (
    <label className="field">
      <span>{t("workerTokens.workerId")}</span>
      <input
        className="mono"
        value={value}
        onChange={(e) => onChange(e.target.value)}
        pattern={htmlPattern(WORKER_ID_PATTERN)}
        maxLength={200}
        placeholder="vm-1-launcher"
        required
      />
    </label>
  );
}

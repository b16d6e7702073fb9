import { launchCommandProblem } from "@ops/contract";
import { useI18n } from "../i18n/index.tsx";

/**
 * What the launcher would make of a launch command, checked as it is typed
 * with the launcher's own parser (the API refuses the same on save): the
 * problem and where it is, e.g. "comilla doble sin cerrar en el carácter 12".
 */
export function LaunchCommandCheck({ id, command }: { id: string; command: string }) {
  const { t } = useI18n();
  const problem = command.trim() ? launchCommandProblem(command.trim()) : undefined;
  if (!problem) return null;
  return (
    <p id={id} className="error-detail" role="alert" data-testid="launch-command-problem">
      {t("agents.commandProblem", { problem: t(`template.${problem.problem}`, { position: problem.position ?? 0 }) })}
    </p>
  );
}

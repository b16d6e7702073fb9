import { useT } from "../../i18n/index.tsx";
import { useSession } from "../../session.tsx";
import { MembersSection } from "./MembersSection.tsx";
import { UsersSection } from "./UsersSection.tsx";
import { WorkspacesSection } from "./WorkspacesSection.tsx";

/**
 * Personas: a workspace admin manages who is in its workspace and with which
 * role; an instance admin also creates, disables and resets users, and
 * creates and renames workspaces. Members never reach this page (no link).
 */
export function PeoplePage() {
  const t = useT();
  const { canAct, isInstanceAdmin } = useSession();
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{t("people.title")}</h1>
          <p className="muted">{t("people.intro")}</p>
        </div>
      </div>
      {canAct ? <MembersSection /> : null}
      {isInstanceAdmin ? (
        <>
          <UsersSection />
          <WorkspacesSection />
        </>
      ) : null}
    </>
  );
}

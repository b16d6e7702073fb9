import { ChangePasswordForm } from "../components/ChangePasswordForm.tsx";
import { Section } from "../components/Section.tsx";
import { useT } from "../i18n/index.tsx";
import { useSession } from "../session.tsx";

/** My account: who I am here, and my password. */
export function AccountPage() {
  const t = useT();
  const { me, roleKey } = useSession();
  return (
    <>
      <div className="page-head">
        <div>
          <h1>{t("account.title")}</h1>
          <p className="muted">{t("account.intro", { user: me.username, role: t(roleKey) })}</p>
        </div>
      </div>
      {me.kind === "user" ? (
        <Section id="password" title={t("account.changePassword")}>
          <ChangePasswordForm />
        </Section>
      ) : null}
    </>
  );
}

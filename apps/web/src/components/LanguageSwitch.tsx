import { type Lang, useI18n } from "../i18n/index.tsx";

export function LanguageSwitch() {
  const { lang, setLang, t } = useI18n();
  return (
    <label className="inline-field">
      <span className="sr-only">{t("lang.label")}</span>
      <select value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
        <option value="es">{t("lang.es")}</option>
        <option value="en">{t("lang.en")}</option>
      </select>
    </label>
  );
}

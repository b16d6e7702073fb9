import { createContext, type ReactNode, useCallback, useContext, useEffect, useMemo, useState } from "react";
import { en } from "./en.ts";
import { es, type MessageKey } from "./es.ts";

export type { MessageKey };

export type Lang = "es" | "en";
export const LANGS: readonly Lang[] = ["es", "en"];
export const CATALOGUES: Record<Lang, Record<MessageKey, string>> = { es, en };

/** A value a message is filled with: lists read as lists ("a, b y c"). */
export type MessageVar = string | number | boolean | null | undefined | readonly (string | number)[];
export type MessageVars = Record<string, MessageVar>;
export type Translate = (key: MessageKey, vars?: MessageVars) => string;

const LOCALES: Record<Lang, string> = { es: "es-ES", en: "en-GB" };

function formatVar(lang: Lang, value: MessageVar): string {
  if (Array.isArray(value)) return new Intl.ListFormat(LOCALES[lang], { type: "conjunction" }).format(value.map(String));
  if (value === null || value === undefined) return "—";
  return String(value);
}

// `{n, plural, one {tarea} other {tareas}}`: `#` inside a branch is the number.
const PLURAL = /\{(\w+), plural, one \{([^{}]*)\} other \{([^{}]*)\}\}/g;

/**
 * A message in `lang`, `{name}` filled from `vars`, plural branches picked by
 * the language's rules. A key or a placeholder that is missing shows itself,
 * so a gap is visible rather than silently empty.
 */
export function translate(lang: Lang, key: MessageKey, vars?: MessageVars): string {
  const template = CATALOGUES[lang][key] ?? key;
  if (!vars) return template;
  const rules = new Intl.PluralRules(LOCALES[lang]);
  return template
    .replace(PLURAL, (whole, name: string, one: string, other: string) => {
      const n = Number(vars[name]);
      if (!(name in vars) || Number.isNaN(n)) return whole;
      return (rules.select(n) === "one" ? one : other).replaceAll("#", String(n));
    })
    .replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? formatVar(lang, vars[name]) : whole));
}

export function hasMessage(key: string): key is MessageKey {
  return Object.hasOwn(es, key);
}

interface I18n {
  lang: Lang;
  setLang(lang: Lang): void;
  t: Translate;
}

const I18nContext = createContext<I18n | null>(null);
const STORAGE_KEY = "ops.lang";

function initialLang(): Lang {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (stored === "es" || stored === "en") return stored;
  } catch {
    // storage unavailable: default
  }
  return "es";
}

export function I18nProvider({ children, lang: fixed }: { children: ReactNode; lang?: Lang }) {
  const [lang, setLangState] = useState<Lang>(() => fixed ?? initialLang());
  const setLang = useCallback((next: Lang) => {
    setLangState(next);
    try {
      window.localStorage.setItem(STORAGE_KEY, next);
    } catch {
      // not persisted
    }
  }, []);
  useEffect(() => {
    document.documentElement.lang = lang;
  }, [lang]);
  const value = useMemo<I18n>(() => ({ lang, setLang, t: (key, vars) => translate(lang, key, vars) }), [lang, setLang]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const value = useContext(I18nContext);
  if (!value) throw new Error("useI18n outside I18nProvider");
  return value;
}

export function useT(): Translate {
  return useI18n().t;
}

/**
 * Chinese (the default) and English. The browser's language decides on the first visit; a choice
 * made with the Language control is kept in localStorage (the choice only: nothing else of the
 * dashboard is stored in the browser).
 */
import { createContext, type ComponentChildren, type JSX } from "preact";
import { useContext, useEffect, useMemo, useState } from "preact/hooks";
import { en } from "./en.ts";
import { zhCN, type MessageKey } from "./zh-CN.ts";

export type { MessageKey } from "./zh-CN.ts";
export const LOCALES = ["zh-CN", "en"] as const;
export type Locale = (typeof LOCALES)[number];
export const dictionaries: Record<Locale, Record<MessageKey, string>> = { "zh-CN": zhCN, en };

const STORAGE_KEY = "wxqr.language";

/** The stored choice if any, else the first browser language we have, else Chinese. */
export function detectLocale(stored: string | null, languages: readonly string[]): Locale {
  if (stored === "zh-CN" || stored === "en") return stored;
  for (const language of languages) {
    const l = language.toLowerCase();
    if (l.startsWith("zh")) return "zh-CN";
    if (l.startsWith("en")) return "en";
  }
  return "zh-CN";
}

export type Vars = Record<string, string | number>;

/** The message for `key`, with `{name}` placeholders filled from `vars`. */
export function translate(locale: Locale, key: MessageKey, vars: Vars = {}): string {
  return dictionaries[locale][key].replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export interface I18n {
  locale: Locale;
  t: (key: MessageKey, vars?: Vars) => string;
  /** A number written for the locale. */
  n: (value: number) => string;
  setLocale: (locale: Locale) => void;
}

const I18nContext = createContext<I18n | null>(null);

function readStored(): string | null {
  try {
    return window.localStorage.getItem(STORAGE_KEY);
  } catch {
    return null;
  }
}

export function I18nProvider({ children }: { children: ComponentChildren }): JSX.Element {
  const [locale, setLocaleState] = useState<Locale>(() => detectLocale(readStored(), navigator.languages ?? [navigator.language]));
  useEffect(() => {
    document.documentElement.lang = locale;
  }, [locale]);
  const value = useMemo<I18n>(() => {
    const numbers = new Intl.NumberFormat(locale);
    return {
      locale,
      t: (key, vars) => translate(locale, key, vars),
      n: (v) => numbers.format(v),
      setLocale: (next) => {
        try {
          window.localStorage.setItem(STORAGE_KEY, next);
        } catch {
          // Private modes may refuse storage: the choice then lasts for this visit.
        }
        setLocaleState(next);
      },
    };
  }, [locale]);
  return <I18nContext.Provider value={value}>{children}</I18nContext.Provider>;
}

export function useI18n(): I18n {
  const i18n = useContext(I18nContext);
  if (i18n === null) throw new Error("useI18n outside I18nProvider");
  return i18n;
}

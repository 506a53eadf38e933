// The UI language lives outside React so that the API client can send it as Accept-Language.
import { en } from "./en";
import { zhCN, type MessageKey } from "./zh-CN";

export type Language = "zh-CN" | "en";
export const LANGUAGES: readonly Language[] = ["zh-CN", "en"];
const STORAGE_KEY = "zt_lang";

const dictionaries: Record<Language, Record<MessageKey, string>> = { "zh-CN": zhCN, en };

export function isLanguage(value: unknown): value is Language {
  return value === "zh-CN" || value === "en";
}

function initialLanguage(): Language {
  try {
    const stored = window.localStorage.getItem(STORAGE_KEY);
    if (isLanguage(stored)) return stored;
  } catch {
    // storage can be disabled (private mode); zh-CN is the default then
  }
  return "zh-CN";
}

let current: Language = initialLanguage();
const listeners = new Set<() => void>();

export function getLanguage(): Language {
  return current;
}

/** True when the person chose a language on this browser (it then wins over the account's). */
export function hasStoredLanguage(): boolean {
  try {
    return isLanguage(window.localStorage.getItem(STORAGE_KEY));
  } catch {
    return false;
  }
}

export function setLanguage(language: Language, { persist = true } = {}): void {
  if (persist) {
    try {
      window.localStorage.setItem(STORAGE_KEY, language);
    } catch {
      // not persisted; still switch for this page
    }
  }
  if (language === current) return;
  current = language;
  document.documentElement.lang = language;
  listeners.forEach((listener) => listener());
}

export function subscribeLanguage(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

export type Params = Record<string, string | number>;

export function translate(language: Language, key: MessageKey, params?: Params): string {
  const template = dictionaries[language][key] ?? zhCN[key] ?? key;
  if (!params) return template;
  return template.replace(/\{(\w+)\}/g, (whole, name: string) =>
    name in params ? String(params[name]) : whole,
  );
}

document.documentElement.lang = current;

import { useCallback, useSyncExternalStore } from "react";

import { getLanguage, subscribeLanguage, translate, type Language, type Params } from "./language";
import type { MessageKey } from "./zh-CN";

export type { Language } from "./language";
export type { MessageKey } from "./zh-CN";
export { LANGUAGES, getLanguage, hasStoredLanguage, isLanguage, setLanguage, translate } from "./language";

export function useLanguage(): Language {
  return useSyncExternalStore(subscribeLanguage, getLanguage, getLanguage);
}

export type Translate = (key: MessageKey, params?: Params) => string;

/** The translate function for the current language; components re-render when it changes. */
export function useT(): Translate {
  const language = useLanguage();
  return useCallback((key: MessageKey, params?: Params) => translate(language, key, params), [language]);
}

import i18next from 'i18next';

/** The same keys as `T`, every text a string: nl and fr must match en (checked by the compiler). */
export type Translation<T> = { [K in keyof T]: T[K] extends string ? string : Translation<T[K]> };

export interface ScreenMessages<T> {
  en: T;
  nl: Translation<T>;
  fr: Translation<T>;
}

/**
 * Texts of one screen, added to i18next when the screen's chunk loads (decision 0320): they stay
 * out of the sign-in bundle, which carries only the shared message files. `namespace` is the
 * first part of every key (`t('telephony.title')`); it must not be a key of the shared files.
 */
export function addScreenMessages<T extends object>(namespace: string, messages: ScreenMessages<T>): void {
  for (const language of ['en', 'nl', 'fr'] as const)
    i18next.addResourceBundle(language, 'translation', { [namespace]: messages[language] }, true, true);
}

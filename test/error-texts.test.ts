import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/platform/errors.js';
import { en } from '../web/src/i18n/en.js';
import { fr } from '../web/src/i18n/fr.js';
import { nl } from '../web/src/i18n/nl.js';

const LANGUAGES = { nl, fr, en } as const;

/** What the back office's error box says for a code: its what/fix sentences, if it has them. */
function textOf(messages: typeof en, code: string): { what?: unknown; fix?: unknown } | undefined {
  const problem = messages.problem as Record<string, unknown>;
  const text = Object.hasOwn(problem, code) ? problem[code] : undefined;
  return typeof text === 'object' && text !== null ? text : undefined;
}

describe('the back office explains every error code the API can answer', () => {
  for (const [language, messages] of Object.entries(LANGUAGES)) {
    it(`every code of ERROR_CODES has a what and a fix in ${language}`, () => {
      const missing = ERROR_CODES.filter((code) => {
        const text = textOf(messages, code);
        return typeof text?.what !== 'string' || !text.what || typeof text.fix !== 'string' || !text.fix;
      });
      expect(missing).toEqual([]);
    });
  }

  it('a code without words (a newer server) has its own box text in each language', () => {
    for (const messages of Object.values(LANGUAGES))
      expect(textOf(messages, 'unexplained')?.what).toBeTruthy();
  });
});

/**
 * Decision 1260: the back office's audit trail says in words, in nl, fr and en, every action the
 * server writes into the audit log, every reason it writes as a code, the roles of actors who are
 * no staff and both decisions. The codes come from the server's lists (AUDIT_ACTIONS types
 * `AuditEvent.action`, so no writer records an action missing there); the words from the web's table.
 */
import { describe, expect, it } from 'vitest';
import { AUDIT_ACTIONS, AUDIT_ACTOR_ROLES, AUDIT_REASON_CODES } from '../src/kernel/audit/audit.actions.js';
import { AUDIT_WORDS, wordsFor } from '../web/src/screens/audit/audit-words.js';

const LANGUAGES = ['nl', 'fr', 'en'] as const;
const KINDS = {
  actions: AUDIT_ACTIONS,
  reasons: AUDIT_REASON_CODES,
  roles: AUDIT_ACTOR_ROLES,
  decisions: ['allowed', 'denied'],
} as const;

describe('the audit trail has words for every code of the audit log (decision 1260)', () => {
  for (const language of LANGUAGES) {
    for (const [kind, codes] of Object.entries(KINDS) as Array<[keyof typeof KINDS, readonly string[]]>) {
      it(`every one of the server's ${kind} has words in ${language}`, () => {
        const missing = codes.filter((code) => !wordsFor(language, kind, code)?.trim());
        expect(missing).toEqual([]);
      });

      it(`the ${kind} words in ${language} are for codes the server writes, none left over`, () => {
        const extra = Object.keys(AUDIT_WORDS[language][kind]).filter((code) => !codes.includes(code));
        expect(extra).toEqual([]);
      });
    }
  }

  it('the Dutch and French words are words, not the code again', () => {
    for (const language of ['nl', 'fr'] as const)
      for (const kind of ['actions', 'reasons'] as const) {
        const same = Object.entries(AUDIT_WORDS[language][kind]).filter(([code, words]) => code === words);
        expect({ language, kind, same }).toEqual({ language, kind, same: [] });
      }
  });

  it('a code without words (a newer server) has none, so the screen shows the code itself', () => {
    for (const code of ['dossier.teleport', '__proto__', 'toString', 'constructor'])
      expect(wordsFor('nl', 'actions', code)).toBeUndefined();
    expect(wordsFor('fr', 'reasons', 'a sentence the server wrote')).toBeUndefined();
  });
});

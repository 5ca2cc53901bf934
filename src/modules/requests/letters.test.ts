import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { parsePolicy } from '../../kernel/policy/policy.loader.js';
import { writeLetter, writePostalHeading } from './letters.js';

async function policy(name: string) {
  const file = path.join(ROOT, 'policies', `${name}.yaml`);
  return parsePolicy(await readFile(file, 'utf8'), file);
}

describe('answer letters (VK-28, VX-17)', () => {
  const expected = {
    nl: ['Gewist:', 'Wat we nog moeten bewaren', 'klacht', 'Gegevensbeschermingsautoriteit'],
    fr: ['Effacé :', 'Ce que nous devons encore conserver', 'plainte', 'Autorité de protection des données'],
    en: ['Erased:', 'What we still have to keep', 'complaint', 'Belgian Data Protection Authority'],
  } as const;
  for (const lang of ['nl', 'fr', 'en'] as const) {
    // Part of VK-28, at unit level (requirement IDs title end-to-end tests only).
    it(`an erasure answer in ${lang} lists what was erased and kept and names the supervisory authority`, async () => {
      const letter = writeLetter(await policy('voxtra'), lang, {
        kind: 'erasure',
        outcome: 'fulfilled',
        receivedOn: '2026-03-01',
        dueOn: '2026-03-31',
        erased: ['naam, e-mailadres (1)'],
        kept: [{ what: 'facturen', why: 'boekhoudkundige bewaarplicht', until: 'accounting (10 years)' }],
      });
      for (const text of expected[lang]) expect(letter.text).toContain(text);
      expect(letter.text).toContain('Drukpersstraat 35');
      expect(letter.subject).toContain('Voxtra bvba');
      expect(letter.text).not.toMatch(/Commissie voor de bescherming|Privacycommissie/);
    });
  }

  it('an erasure answer says which mechanism protects which data in backups: key destruction for encrypted fields, the erasure register for the rest', async () => {
    const expectedBackups = {
      nl: ['sleutel die ze opende is vernietigd', 'naam en uw oproepgegevens', 'wissingsregister'],
      fr: ['clé qui les ouvrait a été détruite', 'nom et vos données d’appel', 'registre des effacements'],
      en: ['key that opened it has been destroyed', 'name and your call records', 'erasure register'],
    } as const;
    for (const lang of ['nl', 'fr', 'en'] as const) {
      const letter = writeLetter(await policy('voiceking'), lang, {
        kind: 'erasure',
        outcome: 'fulfilled',
        receivedOn: '2026-03-01',
        dueOn: '2026-03-31',
        erased: ['name (1)'],
      });
      for (const text of expectedBackups[lang]) expect(letter.text).toContain(text);
    }
  });

  it('a verification-code mail carries the code and no complaint paragraph', async () => {
    const letter = writeLetter(await policy('voiceking'), 'en', {
      kind: 'access',
      outcome: 'verification_code',
      code: '482913',
      receivedOn: '2026-03-01',
      dueOn: '2026-03-31',
    });
    expect(letter.text).toContain('482913');
    expect(letter.text).toContain('15 minutes');
    expect(letter.text).not.toContain('complaint');
  });

  it('a letter to post is headed, in its language, with the name and address block, the date, the reference and the subject (decision 1192)', () => {
    const to = {
      name: 'Wout Coppens',
      address: { street: 'Rue Haute 12', postalCode: '1000', city: 'Bruxelles', country: 'BE' },
    };
    const facts = { date: '2026-06-01', reference: 'req-1', subject: 'Votre demande : accès à vos données' };
    expect(writePostalHeading('fr', to, facts)).toBe(
      [
        'Wout Coppens',
        'Rue Haute 12',
        '1000 Bruxelles',
        'Belgique',
        '',
        'Date : 1 juin 2026',
        'Notre référence : req-1',
        'Objet : Votre demande : accès à vos données',
      ].join('\n'),
    );
    expect(writePostalHeading('en', { ...to, address: { ...to.address, country: 'NL' } }, facts)).toContain(
      '1000 Bruxelles\nNetherlands\n\nDate: 1 June 2026\nOur reference: req-1',
    );
  });
});

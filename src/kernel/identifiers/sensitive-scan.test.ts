import { describe, expect, it } from 'vitest';
import { listSensitiveKinds, scanForSensitiveData } from './sensitive-scan.js';

describe('sensitive data scan', () => {
  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).
  it('a Belgian national register number in a note is detected, with its position only', () => {
    const note = 'Klant gaf zijn rijksregisternummer 85.07.30-033.28 door.';
    const findings = scanForSensitiveData(note);
    expect(findings).toEqual([{ kind: 'national_register_number', start: 35, end: 50 }]);
    expect(JSON.stringify(findings)).not.toContain('033');
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('an IBAN and a card number in one note are each reported by kind', () => {
    const note = 'IBAN BE68 5390 0754 7034, kaart 5555 5555 5555 4444';
    expect(scanForSensitiveData(note).map((f) => f.kind)).toEqual(['iban', 'payment_card']);
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('special-category keywords are flagged in Dutch, French and English', () => {
    const cases: Array<[string, string]> = [
      ['Klant heeft diabetes, bellen na 10u', 'health'],
      ['Le client est diabétique', 'health'],
      ['Werkt voor de vakbond ABVV', 'trade_union'],
      ['Mentions her sexual orientation', 'sexual_orientation'],
      ['Zij is moslim', 'religion'],
      ['Opinion politique: à ne pas noter', 'political_opinion'],
      ['Origine ethnique inconnue', 'ethnic_origin'],
      ['Toegang met vingerafdruk', 'biometric_genetic'],
    ];
    for (const [note, category] of cases) {
      const findings = scanForSensitiveData(note);
      expect(
        findings.map((f) => f.specialCategory),
        note,
      ).toContain(category);
    }
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('keyword positions point into the original text, accents included', () => {
    const note = 'Client diabétique.';
    const [finding] = scanForSensitiveData(note);
    expect(finding && note.slice(finding.start, finding.end)).toBe('diabétique');
  });

  // Part of VK-16, at unit level (requirement IDs title end-to-end tests only).

  it('whole words only, so ordinary notes stay quiet', () => {
    const quiet = [
      'Levering op het terras, Gaylord Street 5',
      'Router vervangen, firmware bijgewerkt; klant tevreden.',
      'Bel terug op 056 22 33 44 voor de offerte 2024-118.',
      'Factuur 2024/0042 betaald op 12.03.2024',
      'Catholicity Road 1', // substring of a keyword-bearing word is not a match
    ];
    for (const note of quiet) expect(scanForSensitiveData(note), note).toEqual([]);
  });

  it('lists each kind once for an error message that never echoes the data', () => {
    const findings = scanForSensitiveData('85073003328 en 01020312345 en kanker');
    expect(listSensitiveKinds(findings)).toEqual(['national_register_number', 'special_category']);
  });
});

describe('spellings of identifiers (attack finding A11)', () => {
  it.each([
    ['85/07/30-033/28', 'national_register_number'],
    ['8507300\u200b3328', 'national_register_number'],
    ['８５０７３００３３２８', 'national_register_number'],
    ['BE71-0961-2345-6769', 'iban'],
    ['4111/1111/1111/1111', 'payment_card'],
  ])('%s is found, and its position points into the text as typed', (identifier, kind) => {
    const text = `zie ${identifier} hier`;
    const [finding] = scanForSensitiveData(text);
    expect(finding?.kind).toBe(kind);
    expect(text.slice(finding?.start, finding?.end)).toBe(identifier);
  });

  it('does not join digits across a line break', () => {
    expect(scanForSensitiveData('85 07 30\n033 28')).toEqual([]);
  });
});

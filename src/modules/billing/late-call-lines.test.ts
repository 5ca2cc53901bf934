import { describe, expect, it } from 'vitest';
import { lateCallLines } from './invoice-run.service.js';

const OCTOBER = {
  subjectId: 1,
  month: '2026-10-01',
  calls: 2,
  seconds: 180,
  costMicros: 170_000,
  unrated: 0,
};

describe('late-call lines in the invoice language (attack S7-8)', () => {
  it('writes the line of calls received after their invoice in Dutch, French or English', () => {
    const descriptions = (['nl', 'fr', 'en'] as const).map(
      (language) => lateCallLines([OCTOBER], language).lines[0]?.description,
    );
    expect(descriptions).toEqual([
      'Gesprekken van 2026-10 ontvangen na de factuur: 2 gesprekken, 3 min 00 s',
      'Appels de 2026-10 reçus après la facture : 2 appels, 3 min 00 s',
      'Calls of 2026-10 received after its invoice: 2 calls, 3 min 00 s',
    ]);
    expect(lateCallLines([{ ...OCTOBER, calls: 1, seconds: 100 }], 'nl').lines[0]?.description).toBe(
      'Gesprekken van 2026-10 ontvangen na de factuur: 1 gesprek, 1 min 40 s',
    );
  });
});

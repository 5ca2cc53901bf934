import { describe, expect, it } from 'vitest';
import { lateCallLines } from './invoice-run.service.js';

const OCTOBER = {
  subjectId: 1,
  month: '2026-10-01',
  calls: 2,
  seconds: 180,
  costMicros: 170_000,
  unrated: 0,
  monthInvoiced: true,
};

describe('late-call lines in the invoice language (attack S7-8)', () => {
  it('writes the line of calls not on their month’s invoice in Dutch, French or English', () => {
    const descriptions = (['nl', 'fr', 'en'] as const).map(
      (language) => lateCallLines([OCTOBER], language).lines[0]?.description,
    );
    expect(descriptions).toEqual([
      'Gesprekken van 2026-10 niet op de factuur van die maand: 2 gesprekken, 3 min 00 s',
      'Appels de 2026-10 absents de la facture de ce mois : 2 appels, 3 min 00 s',
      "Calls of 2026-10 not on that month's invoice: 2 calls, 3 min 00 s",
    ]);
    expect(lateCallLines([{ ...OCTOBER, calls: 1, seconds: 100 }], 'nl').lines[0]?.description).toBe(
      'Gesprekken van 2026-10 niet op de factuur van die maand: 1 gesprek, 1 min 40 s',
    );
  });

  it('says "not billed before" to a customer who had no invoice for that month (attack S8-4)', () => {
    const descriptions = (['nl', 'fr', 'en'] as const).map(
      (language) => lateCallLines([{ ...OCTOBER, monthInvoiced: false }], language).lines[0]?.description,
    );
    expect(descriptions).toEqual([
      'Gesprekken van 2026-10 nog niet gefactureerd: 2 gesprekken, 3 min 00 s',
      'Appels de 2026-10 pas encore facturés : 2 appels, 3 min 00 s',
      'Calls of 2026-10 not billed before: 2 calls, 3 min 00 s',
    ]);
  });
});

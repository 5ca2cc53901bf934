import { describe, expect, it } from 'vitest';
import { validateCreditorId } from './sepa-creditor.js';

describe('SEPA creditor identifier', () => {
  it('accepts the EPC example and a typed one with spaces, refuses a changed digit and a wrong shape', () => {
    expect(validateCreditorId('BE69ZZZ050D000000008')).toEqual({
      ok: true,
      creditorId: 'BE69ZZZ050D000000008',
    });
    expect(validateCreditorId('be69 zzz 050d000000008')).toMatchObject({ ok: true });
    // The business code is outside the check: another one keeps the identifier valid.
    expect(validateCreditorId('BE69ABC050D000000008')).toMatchObject({ ok: true });
    expect(validateCreditorId('BE69ZZZ050D000000009')).toEqual({ ok: false, reason: 'bad_check_digits' });
    expect(validateCreditorId('BE6ZZZ')).toEqual({ ok: false, reason: 'bad_format' });
  });
});

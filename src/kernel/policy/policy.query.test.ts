import { describe, expect, it } from 'vitest';
import {
  categoriesOfPurpose,
  findPurpose,
  isAllowed,
  isEeaCountry,
  isEuCountry,
  isWithinRegion,
  legalHoldsFor,
  marketingPurposes,
  purposesForRole,
  retentionRuleFor,
  retentionRulesFor,
  rolesForPurpose,
} from './policy.query.js';
import { loadSeedPolicy } from './statement.test-helpers.js';

const voxtra = loadSeedPolicy('voxtra');
const voiceking = loadSeedPolicy('voiceking');

describe('policy queries for the access gate', () => {
  it('finds purposes and answers nothing for unknown or inherited keys', () => {
    expect(findPurpose(voxtra, 'technical_dossier')?.legalBasis).toBe('legitimate_interests');
    expect(findPurpose(voxtra, 'nope')).toBeUndefined();
    expect(findPurpose(voxtra, 'toString')).toBeUndefined();
    expect(rolesForPurpose(voxtra, 'nope')).toEqual([]);
    expect(categoriesOfPurpose(voxtra, 'nope')).toEqual([]);
  });

  // Part of VX-4, at unit level (requirement IDs title end-to-end tests only).

  it('only the technician role may act on the technical dossier', () => {
    expect(rolesForPurpose(voxtra, 'technical_dossier')).toEqual(['technician']);
    expect(isAllowed(voxtra, 'technician', 'technical_dossier', 'kluis.dossier.credential')).toBe(true);
    expect(isAllowed(voxtra, 'sales', 'technical_dossier', 'kluis.dossier.credential')).toBe(false);
    expect(isAllowed(voxtra, 'technician', 'invoicing', 'kluis.dossier.credential')).toBe(false);
  });

  // Part of VX-5, at unit level (requirement IDs title end-to-end tests only).

  it('the billing role reaches call records only under call billing', () => {
    expect(purposesForRole(voxtra, 'billing')).toEqual(
      expect.arrayContaining([
        'accounting',
        'invoicing',
        'call_billing',
        'solvency',
        'customer_administration',
      ]),
    );
    expect(categoriesOfPurpose(voxtra, 'call_billing')).toEqual([
      'kluis.telephony.number',
      'kluis.telephony.call_record',
    ]);
    expect(isAllowed(voxtra, 'billing', 'invoicing', 'kluis.telephony.call_record')).toBe(false);
  });

  it('gives the retention rules of a category, ignoring purposes that keep no copy', () => {
    expect(retentionRuleFor(voxtra, 'kluis.telephony.call_record')).toEqual({
      key: 'cdr_until_uncontestable',
      purpose: 'call_billing',
      rule: { kind: 'until_bill_uncontestable', months: 12, onExpiry: 'erase' },
    });
    expect(retentionRulesFor(voxtra, 'kluis.telephony.call_record')).toHaveLength(1);
    expect(retentionRuleFor(voxtra, 'kluis.dossier.credential')?.rule).toMatchObject({
      kind: 'on_termination',
      writtenNotice: true,
    });
    expect(retentionRuleFor(voxtra, 'user.unknown')).toBeUndefined();
    expect(legalHoldsFor(voxtra, 'kluis.billing.payment').map((h) => h.key)).toEqual(['accounting']);
    expect(legalHoldsFor(voxtra, 'kluis.dossier.credential')).toEqual([]);
  });

  // Part of VK-6 / VK-20b, at unit level (requirement IDs title end-to-end tests only).

  it('lists the marketing purposes an objection must stop', () => {
    expect(marketingPurposes(voiceking)).toEqual([
      'interest_profiles',
      'newsletter_customers',
      'newsletter_opt_in',
      'email_tracking',
    ]);
    expect(marketingPurposes(voxtra)).toEqual(['personalised_info', 'news_opt_in']);
  });

  it('knows the EU and the EEA', () => {
    expect(isEeaCountry('BE')).toBe(true);
    expect(isEeaCountry('no')).toBe(true);
    expect(isEuCountry('NO')).toBe(false);
    expect(isEeaCountry('CH')).toBe(false);
    expect(isEeaCountry('GB')).toBe(false);
    expect(isEeaCountry('US')).toBe(false);
    expect(isWithinRegion('EEA', 'EU')).toBe(false);
    expect(isWithinRegion('EU', 'EEA')).toBe(true);
    expect(isWithinRegion('IS', 'EEA')).toBe(true);
  });
});

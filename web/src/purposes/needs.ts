import type { PurposeInfo } from '../api/auth.js';

/**
 * What a screen reads and writes, in data categories, never in purpose keys: the tenant's policy
 * names its purposes as it likes (VoiceKing bills under `billing`, Voxtra under `invoicing`), and
 * the screen acts under those of the signed-in role that cover what it needs (decision 0170).
 */
export interface ScreenNeed {
  /** Alternatives, best first: a purpose fits when it covers every category of one of them. */
  anyOf: readonly (readonly string[])[];
  /** The legal basis that fits the work best (ranks, never excludes). */
  basis?: string;
  /** The kind of person the screen is mostly about (ranks, never excludes). */
  subjectType?: string;
  /** Only the purposes the policy sends mailings (newsletters) under. */
  newsletter?: boolean;
  /**
   * The persons of an authority request: the one screen an authority's purpose fits; every other
   * screen leaves such a purpose out (the server refuses it there, decision 0816).
   */
  authorityRequest?: boolean;
}

const NAME = 'user.name';
const EMAIL = 'user.contact.email';
const ADDRESS = 'user.contact.address';
const PRODUCT = 'kluis.contract.product';
const ORDER = 'kluis.contract.order';
const PAYMENT = 'kluis.billing.payment';
const BANK = 'user.financial.bank_account';

export const SCREEN_NEEDS = {
  people: { anyOf: [[NAME, EMAIL]], basis: 'contract', subjectType: 'customer' },
  /** Registering a person: a name under a purpose the role writes under (decision 1111). */
  newPerson: { anyOf: [[NAME, EMAIL], [NAME]], basis: 'contract', subjectType: 'customer' },
  organisations: { anyOf: [[NAME]], basis: 'contract', subjectType: 'customer' },
  quotes: {
    anyOf: [
      [NAME, ORDER],
      [NAME, PRODUCT],
    ],
    basis: 'contract',
    subjectType: 'prospect',
  },
  orders: {
    anyOf: [
      [ORDER, PRODUCT, ADDRESS],
      [PRODUCT, ADDRESS],
    ],
    basis: 'contract',
    subjectType: 'customer',
  },
  contracts: { anyOf: [[PRODUCT, ADDRESS, EMAIL]], basis: 'contract', subjectType: 'customer' },
  billing: { anyOf: [[PAYMENT, BANK, PRODUCT]], basis: 'contract', subjectType: 'customer' },
  accounting: { anyOf: [[PAYMENT, BANK]], basis: 'legal_obligation', subjectType: 'customer' },
  /** The call records an invoice run rates (VX-5: only a purpose that covers them). */
  calls: { anyOf: [['kluis.telephony.call_record']], basis: 'contract', subjectType: 'customer' },
  dossier: { anyOf: [['kluis.dossier.asset', 'kluis.dossier.credential']], subjectType: 'customer' },
  customers: {
    anyOf: [
      [NAME, 'kluis.party.company'],
      [NAME, PRODUCT],
    ],
    basis: 'contract',
    subjectType: 'customer',
  },
  /** Numbers and line identifiers, with the holder's name where the purpose covers it. */
  telephony: {
    anyOf: [['kluis.telephony.number', NAME], ['kluis.telephony.number']],
    basis: 'contract',
    subjectType: 'customer',
  },
  mailings: { anyOf: [[EMAIL]], newsletter: true },
  /** Finding the persons an authority asks about, under the purpose of legal disclosures. */
  authorityPeople: {
    anyOf: [[NAME, 'kluis.telephony.call_record']],
    basis: 'legal_obligation',
    authorityRequest: true,
  },
} as const satisfies Record<string, ScreenNeed>;

export type ScreenKey = keyof typeof SCREEN_NEEDS;

/** The role's purposes that fit the need, best first. */
export function purposesFitting(purposes: readonly PurposeInfo[], need: ScreenNeed): PurposeInfo[] {
  const ranked: Array<{ purpose: PurposeInfo; score: number; index: number }> = [];
  purposes.forEach((purpose, index) => {
    if (need.newsletter && !purpose.newsletter) return;
    if (purpose.authorityRequestsOnly && !need.authorityRequest) return;
    if (purpose.disclosureOnly) return;
    const alternative = need.anyOf.findIndex((categories) =>
      categories.every((category) => purpose.categories.includes(category)),
    );
    if (alternative < 0) return;
    const score =
      alternative * 10 -
      (need.basis !== undefined && purpose.legalBasis === need.basis ? 4 : 0) -
      (need.subjectType !== undefined && purpose.subjectTypes.includes(need.subjectType) ? 2 : 0);
    ranked.push({ purpose, score, index });
  });
  return ranked.sort((a, b) => a.score - b.score || a.index - b.index).map((entry) => entry.purpose);
}

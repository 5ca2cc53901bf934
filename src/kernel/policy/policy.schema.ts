/**
 * The schema of a tenant's privacy policy file (policies/<tenant>.yaml).
 *
 * This is the shape only; references between sections (a purpose naming a category, a
 * recipient naming a purpose, …) are checked by policy.references.ts, because JSON Schema
 * cannot express them and we want each such error to point at the offending line.
 * `schema/policy.schema.json` is generated from this file (write-json-schema.ts).
 */
import { z } from 'zod';
import { parseEnterpriseNumber } from '../identifiers/enterprise-number.js';

export const LANGUAGES = ['nl', 'fr', 'en'] as const;
export type Language = (typeof LANGUAGES)[number];

/** The six lawful bases of GDPR Art. 6(1), (a) to (f). */
export const LEGAL_BASES = [
  'consent',
  'contract',
  'legal_obligation',
  'vital_interests',
  'public_task',
  'legitimate_interests',
] as const;
export type LegalBasis = (typeof LEGAL_BASES)[number];

export const RECIPIENT_KINDS = ['processor', 'third_party', 'group_company', 'authority'] as const;
export type RecipientKind = (typeof RECIPIENT_KINDS)[number];

/** Art. 46/45/47/49 instruments that make a transfer outside the EEA lawful. */
export const TRANSFER_SAFEGUARDS = [
  'adequacy_decision',
  'standard_contractual_clauses',
  'binding_corporate_rules',
  'explicit_consent',
] as const;

export const RIGHTS = [
  'access',
  'rectification',
  'erasure',
  'restriction',
  'objection',
  'portability',
  'withdraw_consent',
  'object_direct_marketing',
] as const;
export type Right = (typeof RIGHTS)[number];

/** What a purpose allows on a whole person (every category at once): see Purpose.wholePerson. */
export const WHOLE_PERSON_ACTIONS = ['none', 'rights', 'minor_erasure'] as const;
export type WholePersonAction = (typeof WHOLE_PERSON_ACTIONS)[number];

export const COOKIE_CATEGORIES = ['functional', 'analytical', 'tracking'] as const;
export const CATEGORY_GROUPS = [
  'identification',
  'contact',
  'professional',
  'financial',
  'contract',
  'technical',
  'online',
  'telephony',
  'marketing',
  'recruitment',
] as const;
export const VERIFICATION_METHODS = ['code_to_contact_on_file', 'staff_check'] as const;
export const CHANNEL_KINDS = [
  'email',
  'post',
  'account_settings',
  'customer_service',
  'unsubscribe_link',
  'cookie_banner',
  'browser_settings',
] as const;

const keyPattern = /^[a-z][a-z0-9_]*$/;
// Category keys are dotted like fideslang's (user.contact.email); our own live under kluis.*.
const categoryKeyPattern = /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/;

const Key = z.string().regex(keyPattern, { error: 'expected a lower-case key like "order_processing"' });
const CategoryKey = z
  .string()
  .regex(categoryKeyPattern, { error: 'expected a dotted lower-case key like "user.contact.email"' });

const Text = z.string().trim().min(1, { error: 'must not be empty' });

export const LocalizedText = z
  .strictObject({ nl: Text, fr: Text, en: Text })
  .meta({ description: 'The same text in Dutch, French and English.' });
export type LocalizedText = z.infer<typeof LocalizedText>;

const Email = z.email({ error: 'expected an e-mail address' });
const IsoDate = z.iso.date({ error: 'expected a date as YYYY-MM-DD' });
// ISO 3166-1 alpha-2, or "EU"/"EEA" when the policy only promises a region (e.g. unnamed processors).
const Country = z
  .string()
  .regex(/^([A-Z]{2}|EEA)$/, { error: 'expected an ISO 3166 country code like "BE", or "EU" / "EEA"' })
  .meta({ description: 'ISO 3166-1 alpha-2 code, or "EU" / "EEA" when only the region is known.' });

const Address = z.strictObject({
  street: Text,
  postalCode: Text,
  city: Text,
  country: Country.default('BE'),
});

const EnterpriseNumberField = z
  .string()
  .superRefine((value, ctx) => {
    const parsed = parseEnterpriseNumber(value);
    if (!parsed.ok)
      ctx.addIssue({ code: 'custom', message: `invalid enterprise number "${value}": ${parsed.message}` });
  })
  .meta({ description: 'Belgian KBO/BCE number, e.g. BE0649.503.981 (check digits are verified).' });

const legalBasisError = (issue: { input?: unknown }): string =>
  issue.input === undefined
    ? `missing legal basis: expected one of ${LEGAL_BASES.join(', ')}`
    : `invalid legal basis ${JSON.stringify(issue.input)}: expected one of ${LEGAL_BASES.join(', ')}`;

const Controller = z.strictObject({
  legalName: Text.meta({ description: 'Name as registered, without the legal form.' }),
  legalForm: Text.meta({ description: 'e.g. CVBA, BV, bvba, NV.' }),
  address: Address,
  enterpriseNumber: EnterpriseNumberField,
  phone: Text.optional(),
  email: Email,
  website: Text.optional(),
  privacyContact: z.strictObject({ email: Email, phone: Text.optional() }),
  statementUrl: Text.optional().meta({ description: 'Where the current statement is published.' }),
});

const SupervisoryAuthority = z.strictObject({
  name: LocalizedText,
  address: Address,
  email: Email,
  phone: Text,
  website: Text,
});

/** GDPR Art. 51: Belgium's authority since 25 May 2018 (it replaced the Privacy Commission). */
export const BELGIAN_DPA = {
  name: {
    nl: 'Gegevensbeschermingsautoriteit (GBA)',
    fr: 'Autorité de protection des données (APD)',
    en: 'Belgian Data Protection Authority (Gegevensbeschermingsautoriteit / Autorité de protection des données)',
  },
  address: { street: 'Drukpersstraat 35', postalCode: '1000', city: 'Brussel', country: 'BE' },
  email: 'contact@apd-gba.be',
  phone: '+32 2 274 48 00',
  website: 'www.gegevensbeschermingsautoriteit.be',
} as const satisfies z.input<typeof SupervisoryAuthority>;

const SubjectType = z.strictObject({ label: LocalizedText });

const Category = z.strictObject({
  label: LocalizedText,
  group: z.enum(CATEGORY_GROUPS),
  subjectTypes: z.array(Key).min(1),
  special: z.boolean().default(false).meta({ description: 'A special category of GDPR Art. 9.' }),
  source: LocalizedText.optional().meta({
    description: 'Where the data comes from when not from the subject.',
  }),
});

const OnExpiry = z.enum(['erase', 'return_on_request_else_erase']).default('erase');
const retentionCommon = { description: LocalizedText.optional(), onExpiry: OnExpiry };
const PositiveInt = z.number().int().positive();

export const RetentionRule = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('contract_duration'), ...retentionCommon }),
  z.strictObject({ kind: z.literal('after_contract_end'), years: PositiveInt, ...retentionCommon }),
  z.strictObject({ kind: z.literal('inactivity'), years: PositiveInt, ...retentionCommon }),
  z.strictObject({
    kind: z.literal('on_termination'),
    writtenNotice: z.boolean().default(false),
    ...retentionCommon,
  }),
  z.strictObject({ kind: z.literal('until_bill_uncontestable'), months: PositiveInt, ...retentionCommon }),
  z.strictObject({
    kind: z.literal('accounting'),
    years: PositiveInt.meta({ description: 'Counted from 1 January after the document date.' }),
    ...retentionCommon,
  }),
  z.strictObject({ kind: z.literal('after_collection'), months: PositiveInt, ...retentionCommon }),
  z.strictObject({
    kind: z.literal('until_withdrawn'),
    maxYears: PositiveInt.optional(),
    ...retentionCommon,
  }),
  // For purposes that only pass on or look at data another purpose keeps (e.g. a disclosure
  // to the police): they never extend how long anything is kept.
  z.strictObject({ kind: z.literal('inherited'), ...retentionCommon }),
]);
export type RetentionRule = z.infer<typeof RetentionRule>;

const Channel = z.strictObject({ kind: z.enum(CHANNEL_KINDS), address: Text.optional() });

const Purpose = z.strictObject({
  label: LocalizedText,
  legalBasis: z.enum(LEGAL_BASES, { error: legalBasisError }),
  dataUse: Text.optional().meta({ description: 'The fideslang data-use key closest to this purpose.' }),
  categories: z.array(CategoryKey).min(1),
  subjectTypes: z.array(Key).min(1),
  roles: z.array(Key),
  retention: Key,
  marketing: z
    .boolean()
    .default(false)
    .meta({ description: 'Direct marketing: an objection stops it at once.' }),
  disclosureOnly: z
    .boolean()
    .default(false)
    .meta({
      description:
        'Used only to disclose data to the recipients that list this purpose (e.g. to the buyer when the business is sold), ' +
        'each disclosure logged; refused on every other route, so no everyday work is done under it (decision 0872).',
    }),
  readWhileRestricted: z
    .boolean()
    .default(false)
    .meta({
      description:
        'Serves legal claims, an authority or the person’s own protection (keeping the books, answering an authority, a breach letter; GDPR Art. 18(2)): ' +
        'may still read the data of a person who asked to restrict its processing, never change it; it may record a legal claim, such as a dispute on an invoice, ' +
        'which adds a record and changes none of their data (decision 0950). Every other purpose is refused for such a person, ' +
        'except the rights requests themselves (decision 0885).',
    }),
  wholePerson: z
    .enum(WHOLE_PERSON_ACTIONS)
    .default('none')
    .meta({
      description:
        'What staff may do to a whole person (every category) under this purpose, for its subject types only: ' +
        '"rights" = answer rights requests (access and portability exports, erasure; Art. 15, 17, 20); ' +
        '"minor_erasure" = erase a person recorded as a minor without parental consent (deletion on notice); ' +
        '"none" (default) = neither.',
    }),
  consent: z
    .strictObject({
      explicit: z.boolean().default(false).meta({ description: 'Explicit consent (Art. 9(2)(a)).' }),
      withdrawal: z.array(Channel).min(1, { error: 'name at least one way to withdraw consent' }).optional(),
    })
    .optional(),
});

const Role = z.strictObject({ label: LocalizedText });

const Recipient = z.strictObject({
  label: LocalizedText,
  name: Text.optional(),
  kind: z.enum(RECIPIENT_KINDS),
  country: Country,
  agreement: z.strictObject({ reference: Text, date: IsoDate }).optional(),
  transferSafeguard: z.enum(TRANSFER_SAFEGUARDS).optional(),
  categories: z.array(CategoryKey).min(1),
  purposes: z.array(Key).min(1),
  condition: LocalizedText.optional().meta({ description: 'When the recipient receives data.' }),
});

const LegalHold = z.strictObject({
  label: LocalizedText,
  legalReference: Text,
  categories: z.array(CategoryKey).min(1),
  retention: Key,
});

const Cookie = z.strictObject({
  name: Text,
  category: z.enum(COOKIE_CATEGORIES),
  provider: Text,
  lifetime: z
    .string()
    .regex(/^(session|P\d+[YMD])$/, { error: 'expected "session" or an ISO 8601 period like P13M' }),
  purpose: LocalizedText,
  purposeKey: Key.optional().meta({ description: 'The policy purpose the cookie serves.' }),
});

const Security = z.strictObject({
  measures: z.array(z.strictObject({ label: LocalizedText, items: z.array(LocalizedText).min(1) })).min(1),
  misuseReport: z.array(Channel).min(1),
  mfa: z
    .union([z.literal('all_staff'), z.array(Key).min(1)])
    .optional()
    .meta({
      description:
        'Who signs in with a second factor besides the roles that always need one (staff managers, rights ' +
        'requests, secrets): "all_staff" when the statement promises it to every member of staff, or a list of roles.',
    }),
});

const Rights = z.strictObject({
  offered: z.array(z.enum(RIGHTS)).min(1),
  channels: z.array(Channel).min(1),
  answerDeadlineDays: z
    .number()
    .int()
    .positive()
    .max(30, { error: 'the answer deadline may not exceed 30 days (GDPR Art. 12(3): one month)' }),
  identityVerification: z.array(z.enum(VERIFICATION_METHODS)).min(1),
  portabilityToOtherOrganisation: z.boolean().default(true),
  highlightedCategories: z
    .array(CategoryKey)
    .default([])
    .meta({ description: 'Categories the statement names explicitly when listing the rights.' }),
});

const Newsletter = z.strictObject({
  legitimateInterest: z.strictObject({ purpose: Key, subjectTypes: z.array(Key).min(1) }),
  optIn: z
    .strictObject({ purpose: Key, subjectTypes: z.array(Key).min(1), doubleOptIn: z.boolean() })
    .optional(),
  unsubscribeInEveryMessage: z.literal(true, { error: 'every mailing must carry an opt-out' }),
  tracking: z.strictObject({ purpose: Key, opensAndClicks: z.boolean() }).optional(),
});

const Incidents = z.strictObject({
  purpose: Key.meta({
    description:
      'The purpose under which the incident register is kept and a breach is notified (GDPR Art. 33, 34): its roles ' +
      'keep the register, and the persons affected are written to under it. Must rest on a legal obligation.',
  }),
  authorityLanguage: z
    .enum(['nl', 'fr'])
    .meta({ description: 'The language of the notification to the Belgian Data Protection Authority.' }),
});

export const PolicySchema = z
  .strictObject({
    statement: z.strictObject({
      version: Text,
      effectiveDate: IsoDate,
      languages: z.array(z.enum(LANGUAGES)).min(1),
      previousVersionDate: IsoDate.optional(),
    }),
    controller: Controller,
    supervisoryAuthority: SupervisoryAuthority.default(BELGIAN_DPA),
    subjectTypes: z.record(Key, SubjectType),
    categories: z.record(CategoryKey, Category),
    retentionRules: z.record(Key, RetentionRule),
    legalHolds: z.record(Key, LegalHold).default({}),
    roles: z.record(Key, Role),
    purposes: z.record(Key, Purpose),
    recipients: z.record(Key, Recipient).default({}),
    transfers: z.strictObject({
      restrictTo: z.enum(['EU', 'EEA']).meta({ description: 'Where recipients may be established.' }),
      allowSafeguardedTransfers: z.boolean(),
    }),
    security: Security,
    cookies: z.strictObject({
      consentAtFirstVisit: z.boolean(),
      externalPolicyUrl: Text.optional().meta({
        description: 'A hosting platform policy the statement refers to.',
      }),
      items: z.array(Cookie).default([]),
    }),
    newsletter: Newsletter.optional(),
    incidents: Incidents.optional().meta({
      description: 'The incident register and breach notification (VK-9; GDPR Art. 33, 34).',
    }),
    rights: Rights,
    minors: z.strictObject({
      parentalConsentBelowAge: z.number().int().min(13).max(16),
      reportChannel: Channel,
    }),
    sensitiveData: z.strictObject({
      collected: z.boolean(),
      requiresExplicitConsent: z.literal(true, {
        error: 'special categories need explicit consent (GDPR Art. 9)',
      }),
    }),
  })
  .meta({
    title: 'Kluis privacy policy',
    description: "A tenant's privacy policy: enforced by Kluis and the source of its privacy statement.",
  });

export type Policy = z.output<typeof PolicySchema>;
export type PolicyInput = z.input<typeof PolicySchema>;
export type Purpose = Policy['purposes'][string];
export type Category = Policy['categories'][string];
export type Recipient = Policy['recipients'][string];
export type LegalHold = Policy['legalHolds'][string];
export type Channel = z.infer<typeof Channel>;
export type Cookie = Policy['cookies']['items'][number];

import type { Language } from '../policy/policy.schema.js';

/**
 * Words for the columns and coded values of a person's own data, in the three languages the
 * portal and the access report speak (decision 0924, attack S20-5). Keys are `table.column` for a
 * column whose meaning depends on its table, else the column's name. A column without words is
 * named by its data category's label; a value without words is shown as stored.
 * The JSON report and the portability export keep the stored codes: these are for reading.
 */
type Words = Readonly<Record<Language, string>>;

const COLUMNS: Readonly<Record<string, Words>> = {
  family_name: { nl: 'Naam', fr: 'Nom', en: 'Last name' },
  given_name: { nl: 'Voornaam', fr: 'Prénom', en: 'First name' },
  gender: { nl: 'Geslacht', fr: 'Genre', en: 'Gender' },
  preferred_language: { nl: 'Taal', fr: 'Langue', en: 'Language' },
  email: { nl: 'E-mailadres', fr: 'Adresse e-mail', en: 'E-mail address' },
  email_enc: { nl: 'E-mailadres', fr: 'Adresse e-mail', en: 'E-mail address' },
  phone: { nl: 'Telefoonnummer', fr: 'Téléphone', en: 'Phone number' },
  phone_enc: { nl: 'Telefoonnummer', fr: 'Téléphone', en: 'Phone number' },
  address: { nl: 'Adres', fr: 'Adresse', en: 'Address' },
  address_enc: { nl: 'Adres', fr: 'Adresse', en: 'Address' },
  birth_date: { nl: 'Geboortedatum', fr: 'Date de naissance', en: 'Date of birth' },
  birth_date_enc: { nl: 'Geboortedatum', fr: 'Date de naissance', en: 'Date of birth' },
  job_title: { nl: 'Functie', fr: 'Fonction', en: 'Job title' },
  job_function: { nl: 'Taak', fr: 'Rôle', en: 'Function' },
  decision_authority: { nl: 'Beslissingsbevoegdheid', fr: 'Pouvoir de décision', en: 'Decision authority' },
  notes: { nl: 'Notities', fr: 'Notes', en: 'Notes' },
  started_at: { nl: 'Begin', fr: 'Début', en: 'Start' },
  ended_at: { nl: 'Einde', fr: 'Fin', en: 'End' },
  answered_at: { nl: 'Opgenomen', fr: 'Décroché', en: 'Answered' },
  caller_e164: { nl: 'Van', fr: 'De', en: 'From' },
  destination: { nl: 'Naar', fr: 'Vers', en: 'To' },
  duration_seconds: { nl: 'Duur (s)', fr: 'Durée (s)', en: 'Duration (s)' },
  billable_seconds: { nl: 'Aangerekend (s)', fr: 'Facturé (s)', en: 'Billed (s)' },
  cost_micros: {
    nl: 'Kost (miljoenste euro)',
    fr: 'Coût (millionièmes d’euro)',
    en: 'Cost (millionths of a euro)',
  },
  dedup_key: { nl: 'Referentie van de centrale', fr: 'Référence du central', en: 'Exchange reference' },
  disposition: { nl: 'Afloop', fr: 'Issue', en: 'Outcome' },
  is_billable_leg: { nl: 'Aanrekenbaar', fr: 'Facturable', en: 'Chargeable' },
  linked_id: { nl: 'Gekoppelde oproep', fr: 'Appel lié', en: 'Linked call' },
  direction: { nl: 'Richting', fr: 'Sens', en: 'Direction' },
  b_leg: { nl: 'Tweede been van', fr: 'Second tronçon de', en: 'Second leg of' },
  valid_from: { nl: 'Vanaf', fr: 'Depuis', en: 'From' },
  valid_to: { nl: 'Tot', fr: 'Jusqu’au', en: 'Until' },
  plan_id: { nl: 'Tariefplan', fr: 'Plan tarifaire', en: 'Rating plan' },
  // The person's own number in our records: what an invoice or a contract is made out to.
  subject_id: { nl: 'Uw nummer bij ons', fr: 'Votre numéro chez nous', en: 'Your number with us' },
  buyer_name: { nl: 'Naam op de factuur', fr: 'Nom sur la facture', en: 'Name on the invoice' },
  buyer_street: { nl: 'Straat op de factuur', fr: 'Rue sur la facture', en: 'Street on the invoice' },
  buyer_postal_code: {
    nl: 'Postcode op de factuur',
    fr: 'Code postal sur la facture',
    en: 'Postcode on the invoice',
  },
  buyer_city: { nl: 'Gemeente op de factuur', fr: 'Commune sur la facture', en: 'Town on the invoice' },
  buyer_country: { nl: 'Land op de factuur', fr: 'Pays sur la facture', en: 'Country on the invoice' },
  buyer_language: { nl: 'Taal van de factuur', fr: 'Langue de la facture', en: 'Language of the invoice' },
  buyer_iban: { nl: 'Rekeningnummer', fr: 'Numéro de compte', en: 'Bank account' },
  buyer_enterprise_number: { nl: 'Ondernemingsnummer', fr: "Numéro d'entreprise", en: 'Enterprise number' },
  buyer_vat_number: { nl: 'Btw-nummer', fr: 'Numéro de TVA', en: 'VAT number' },
  buyer_mandate: { nl: 'Domiciliëringsmandaat', fr: 'Mandat de domiciliation', en: 'Direct debit mandate' },
  buyer_vat_registered: { nl: 'Btw-plichtig', fr: 'Assujetti à la TVA', en: 'VAT-registered' },
  buyer_reference: { nl: 'Uw referentie', fr: 'Votre référence', en: 'Your reference' },
  buyer_order_reference: {
    nl: 'Uw bestelreferentie',
    fr: 'Votre référence de commande',
    en: 'Your order reference',
  },
  buyer_peppol_scheme: { nl: 'Peppol-schema', fr: 'Schéma Peppol', en: 'Peppol scheme' },
  buyer_peppol_id: { nl: 'Peppol-adres', fr: 'Adresse Peppol', en: 'Peppol address' },
  'consent_records.purpose': { nl: 'Toestemming voor', fr: 'Consentement pour', en: 'Consent to' },
  'consent_records.event': { nl: 'Wat u besliste', fr: 'Ce que vous avez décidé', en: 'What you decided' },
  'consent_records.channel': { nl: 'Hoe', fr: 'Comment', en: 'How' },
  'consent_records.recorded_at': { nl: 'Wanneer', fr: 'Quand', en: 'When' },
  'consent_records.policy_version': {
    nl: 'Versie van de privacyverklaring',
    fr: 'Version de la déclaration de confidentialité',
    en: 'Version of the privacy statement',
  },
  'consent_records.statement': {
    nl: 'Wat u werd getoond of voorgelezen',
    fr: 'Ce qui vous a été montré ou lu',
    en: 'What you were shown or read',
  },
  'number_assignments.e164': { nl: 'Telefoonnummer', fr: 'Numéro de téléphone', en: 'Phone number' },
  'line_identifiers.kind': { nl: 'Soort', fr: 'Type', en: 'Kind' },
  'line_identifiers.value': { nl: 'Kenmerk', fr: 'Identifiant', en: 'Identifier' },
  'line_identifiers.context': { nl: 'Context', fr: 'Contexte', en: 'Context' },
};

const LANGUAGE_WORDS: Readonly<Record<string, Words>> = {
  nl: { nl: 'Nederlands', fr: 'néerlandais', en: 'Dutch' },
  fr: { nl: 'Frans', fr: 'français', en: 'French' },
  en: { nl: 'Engels', fr: 'anglais', en: 'English' },
  de: { nl: 'Duits', fr: 'allemand', en: 'German' },
};

const VALUES: Readonly<Record<string, Readonly<Record<string, Words>>>> = {
  'consent_records.event': {
    signed_up: { nl: 'ingeschreven', fr: 'inscrit', en: 'signed up' },
    given: { nl: 'toestemming gegeven', fr: 'consentement donné', en: 'consent given' },
    withdrawn: { nl: 'toestemming ingetrokken', fr: 'consentement retiré', en: 'consent withdrawn' },
    objected: { nl: 'bezwaar gemaakt', fr: 'opposition faite', en: 'objected' },
    objected_marketing: {
      nl: 'bezwaar gemaakt tegen direct marketing',
      fr: 'opposition au marketing direct',
      en: 'objected to direct marketing',
    },
  },
  'consent_records.channel': {
    web_form: {
      nl: 'via een formulier op onze website',
      fr: 'par un formulaire de notre site',
      en: 'through a form on our website',
    },
    privacy_portal: {
      nl: 'in uw privacyportaal',
      fr: 'dans votre portail vie privée',
      en: 'in your privacy portal',
    },
    staff_phone: {
      nl: 'telefonisch, aan een medewerker',
      fr: 'par téléphone, à un collaborateur',
      en: 'by phone, to a member of staff',
    },
    import: {
      nl: 'overgenomen uit een eerder bestand',
      fr: 'repris d’un fichier antérieur',
      en: 'taken over from an earlier file',
    },
    double_opt_in: {
      nl: 'door de bevestigingslink in onze e-mail',
      fr: 'par le lien de confirmation de notre e-mail',
      en: 'by the confirmation link in our e-mail',
    },
    unsubscribe_link: {
      nl: 'met de uitschrijflink in een e-mail',
      fr: 'par le lien de désinscription d’un e-mail',
      en: 'with the unsubscribe link in an e-mail',
    },
    rights_request: {
      nl: 'met een verzoek aan ons',
      fr: 'par une demande à nous',
      en: 'with a request to us',
    },
  },
  gender: {
    female: { nl: 'vrouw', fr: 'femme', en: 'female' },
    male: { nl: 'man', fr: 'homme', en: 'male' },
    x: { nl: 'X', fr: 'X', en: 'X' },
  },
  preferred_language: LANGUAGE_WORDS,
  buyer_language: LANGUAGE_WORDS,
  'line_identifiers.kind': {
    account_code: { nl: 'accountcode', fr: 'code de compte', en: 'account code' },
    channel: { nl: 'kanaal van de centrale', fr: 'canal du central', en: 'exchange channel' },
    extension: { nl: 'intern nummer', fr: 'poste interne', en: 'extension' },
    sip_user: { nl: 'SIP-gebruiker', fr: 'utilisateur SIP', en: 'SIP user' },
  },
};

/** Columns whose value is a key of the policy's purposes. */
const PURPOSE_COLUMNS: ReadonlySet<string> = new Set(['consent_records.purpose']);

function lookup<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}

/** A column's name for the person, or undefined where its category's label must name it. */
export function columnWords(table: string, column: string, lang: Language): string | undefined {
  return (lookup(COLUMNS, `${table}.${column}`) ?? lookup(COLUMNS, column))?.[lang];
}

/**
 * A coded value in the person's words (a consent's event and channel, a purpose by its label, a
 * gender, a language), or undefined for a value that is itself what the person reads.
 */
export function valueWords(
  table: string,
  column: string,
  value: unknown,
  lang: Language,
  purposeLabel: (key: string) => string | undefined,
): string | undefined {
  if (typeof value !== 'string') return undefined;
  if (PURPOSE_COLUMNS.has(`${table}.${column}`)) return purposeLabel(value);
  const values = lookup(VALUES, `${table}.${column}`) ?? lookup(VALUES, column);
  return values ? lookup(values, value)?.[lang] : undefined;
}

import type { Policy } from '../../kernel/policy/policy.schema.js';
import { formatAmount } from './amounts.js';
import type { DestinationClass, DocumentLanguage } from './billing.tables.js';

/**
 * The words of the documents for people (HTML and PDF invoice, credit note) in the languages a
 * document is written in (decision 0310). Values filled in by the renderer are plain strings; the
 * HTML renderer escapes them, the PDF renderer prints them.
 */
export interface DocumentTexts {
  invoice: string;
  creditNote: string;
  date: string;
  period: string;
  dueDate: string;
  vatNumber: string;
  enterpriseNumber: string;
  line: string;
  description: string;
  quantity: string;
  unitPrice: string;
  vat: string;
  amount: string;
  totalExclVat: string;
  vatOn: (rate: string, base: string) => string;
  total: string;
  alreadyPaid: string;
  credited: string;
  amountDue: string;
  structuredCommunication: string;
  payByTransfer: (amount: string, due: string, account: string) => string;
  directDebit: (mandate: string, iban: string | null, due: string) => string;
  creditNoteFor: (invoiceNumber: string) => string;
  /** The line of a partial credit note. */
  correctionOf: (invoiceNumber: string) => string;
  nothingToPay: string;
  scanToPay: string;
  callDetails: string;
  callStart: string;
  callDestination: string;
  callSeconds: string;
  callCost: string;
  callsNotKept: string;
  callsPastContest: string;
  callsNotUnderPurpose: string;
  /** Under the PDF's call list when it is capped (decision 0312): how many calls are not listed. */
  callsNotListed: (notListed: number, listed: number) => string;
  /**
   * The words of a calls line per destination group, "<group>: 3 gesprekken, 4 min 00 s"
   * (`callGroupLine`): what follows the group's name, and the calls counted as one or many. The
   * invoice run writes the same line in SQL from these words (decision 0550).
   */
  callWords: { colon: string; one: string; many: string };
  /** The built-in destination classes' names (a tariff's own groups keep the tariff's names). */
  builtInGroups: Readonly<Record<DestinationClass, string>>;
  /**
   * An invoice line for calls of an earlier month that were not on that month's invoice (G-1,
   * received after it, or rated after it): written into the line's description when the invoice
   * is issued, in the invoice's language. A customer who had no invoice for that month gets
   * `remainingCalls` instead (attack S8-4).
   */
  lateCalls: (month: string, calls: number, duration: string) => string;
  /**
   * Calls of a month no invoice billed yet: the month's own calls when part of them was billed
   * already as late calls on another invoice (attack S8-5), and late calls of a month for which
   * the customer had no invoice (attack S8-4).
   */
  remainingCalls: (month: string, calls: number, duration: string) => string;
  page: (page: number, pages: number) => string;
  /** Legal mentions of the VAT exemptions Kluis applies itself, by VATEX code. */
  exemptions: Readonly<Record<string, string>>;
}

export const DOCUMENT_TEXTS: Readonly<Record<DocumentLanguage, DocumentTexts>> = {
  nl: {
    invoice: 'Factuur',
    creditNote: 'Creditnota',
    date: 'Datum',
    period: 'Periode',
    dueDate: 'Vervaldag',
    vatNumber: 'Btw',
    enterpriseNumber: 'Ondernemingsnummer',
    line: '#',
    description: 'Omschrijving',
    quantity: 'Aantal',
    unitPrice: 'Eenheidsprijs',
    vat: 'Btw',
    amount: 'Bedrag',
    totalExclVat: 'Totaal exclusief btw',
    vatOn: (rate, base) => `Btw ${rate} % op ${base}`,
    total: 'Totaal',
    alreadyPaid: 'Reeds betaald',
    credited: 'Gecrediteerd',
    amountDue: 'Te betalen',
    structuredCommunication: 'Gestructureerde mededeling',
    payByTransfer: (amount, due, account) =>
      `Gelieve ${amount} te betalen vóór ${due} op rekening ${account} met de gestructureerde mededeling`,
    directDebit: (mandate, iban, due) =>
      `Dit bedrag wordt via SEPA-domiciliëring (mandaat ${mandate}) ${iban ? `van ${iban} ` : ''}gedebiteerd op of na ${due}.`,
    creditNoteFor: (invoiceNumber) => `Creditnota bij factuur ${invoiceNumber}. U hoeft niets te betalen.`,
    correctionOf: (invoiceNumber) => `Correctie van factuur ${invoiceNumber}`,
    nothingToPay: 'Deze factuur is betaald. Dank u.',
    scanToPay: 'Scan met uw bank-app om te betalen',
    callDetails: 'Detail van de gesprekken',
    callStart: 'Begin',
    callDestination: 'Bestemming',
    callSeconds: 'Seconden',
    callCost: 'Kost',
    callsNotKept: 'De gespreksgegevens worden niet meer bewaard.',
    callsPastContest:
      'De gespreksgegevens worden niet meer bewaard: de factuur kan niet meer betwist worden (G-1).',
    callsNotUnderPurpose: 'Het detail van de gesprekken is niet beschikbaar voor dit doel.',
    callsNotListed: (notListed, listed) =>
      `Deze PDF toont de eerste ${listed} gesprekken; ${notListed} gesprekken zijn niet opgenomen. ` +
      'De samenvatting per bestemmingsgroep staat bij de factuurlijnen hierboven. ' +
      'De volledige lijst staat in de HTML-versie van deze factuur of is op aanvraag beschikbaar.',
    callWords: { colon: ': ', one: 'gesprek', many: 'gesprekken' },
    builtInGroups: {
      be_fixed: 'Gesprekken naar Belgische vaste nummers',
      be_mobile: 'Gesprekken naar Belgische mobiele nummers',
      international: 'Internationale gesprekken',
      special: 'Gesprekken naar service- en speciale nummers',
    },
    lateCalls: (month, calls, duration) =>
      `Gesprekken van ${month} niet op de factuur van die maand: ${calls} ${calls === 1 ? 'gesprek' : 'gesprekken'}, ${duration}`,
    remainingCalls: (month, calls, duration) =>
      `Gesprekken van ${month} nog niet gefactureerd: ${calls} ${calls === 1 ? 'gesprek' : 'gesprekken'}, ${duration}`,
    page: (page, pages) => `Pagina ${page} van ${pages}`,
    exemptions: {
      'VATEX-EU-AE': 'Btw verlegd: verlegging van heffing (art. 196 btw-richtlijn)',
    },
  },
  fr: {
    invoice: 'Facture',
    creditNote: 'Note de crédit',
    date: 'Date',
    period: 'Période',
    dueDate: 'Échéance',
    vatNumber: 'TVA',
    enterpriseNumber: "Numéro d'entreprise",
    line: 'n°',
    description: 'Description',
    quantity: 'Qté',
    unitPrice: 'Prix unitaire',
    vat: 'TVA',
    amount: 'Montant',
    totalExclVat: 'Total hors TVA',
    vatOn: (rate, base) => `TVA ${rate} % sur ${base}`,
    total: 'Total',
    alreadyPaid: 'Déjà payé',
    credited: 'Crédité',
    amountDue: 'À payer',
    structuredCommunication: 'Communication structurée',
    payByTransfer: (amount, due, account) =>
      `Veuillez payer ${amount} avant le ${due} sur le compte ${account} avec la communication structurée`,
    directDebit: (mandate, iban, due) =>
      `Ce montant sera prélevé par domiciliation SEPA (mandat ${mandate}) ${iban ? `sur ${iban} ` : ''}à partir du ${due}.`,
    creditNoteFor: (invoiceNumber) =>
      `Note de crédit relative à la facture ${invoiceNumber}. Vous n'avez rien à payer.`,
    correctionOf: (invoiceNumber) => `Correction de la facture ${invoiceNumber}`,
    nothingToPay: 'Cette facture est payée. Merci.',
    scanToPay: 'Scannez avec votre app bancaire pour payer',
    callDetails: 'Détail des appels',
    callStart: 'Début',
    callDestination: 'Destination',
    callSeconds: 'Secondes',
    callCost: 'Coût',
    callsNotKept: 'Les données des appels ne sont plus conservées.',
    callsPastContest:
      'Les données des appels ne sont plus conservées : la facture ne peut plus être contestée (G-1).',
    callsNotUnderPurpose: "Le détail des appels n'est pas disponible pour cette finalité.",
    callsNotListed: (notListed, listed) =>
      `Ce PDF reprend les ${listed} premiers appels ; ${notListed} appels ne sont pas repris. ` +
      'Le récapitulatif par groupe de destinations figure dans les lignes de la facture ci-dessus. ' +
      'La liste complète figure dans la version HTML de cette facture ou est disponible sur demande.',
    callWords: { colon: ' : ', one: 'appel', many: 'appels' },
    builtInGroups: {
      be_fixed: 'Appels vers des numéros fixes belges',
      be_mobile: 'Appels vers des numéros mobiles belges',
      international: 'Appels internationaux',
      special: 'Appels vers des numéros de service et spéciaux',
    },
    lateCalls: (month, calls, duration) =>
      `Appels de ${month} absents de la facture de ce mois : ${calls} ${calls === 1 ? 'appel' : 'appels'}, ${duration}`,
    remainingCalls: (month, calls, duration) =>
      `Appels de ${month} pas encore facturés : ${calls} ${calls === 1 ? 'appel' : 'appels'}, ${duration}`,
    page: (page, pages) => `Page ${page} sur ${pages}`,
    exemptions: {
      'VATEX-EU-AE': 'Autoliquidation (art. 196 de la directive TVA)',
    },
  },
  en: {
    invoice: 'Invoice',
    creditNote: 'Credit note',
    date: 'Date',
    period: 'Period',
    dueDate: 'Due date',
    vatNumber: 'VAT',
    enterpriseNumber: 'Enterprise number',
    line: '#',
    description: 'Description',
    quantity: 'Qty',
    unitPrice: 'Unit price',
    vat: 'VAT',
    amount: 'Amount',
    totalExclVat: 'Total excluding VAT',
    vatOn: (rate, base) => `VAT ${rate} % on ${base}`,
    total: 'Total',
    alreadyPaid: 'Already paid',
    credited: 'Credited',
    amountDue: 'Amount due',
    structuredCommunication: 'Structured communication',
    payByTransfer: (amount, due, account) =>
      `Please pay ${amount} by ${due} to account ${account} with the structured communication`,
    directDebit: (mandate, iban, due) =>
      `Collected by SEPA direct debit (mandate ${mandate}) ${iban ? `from ${iban} ` : ''}on or after ${due}.`,
    creditNoteFor: (invoiceNumber) => `Credit note for invoice ${invoiceNumber}. Nothing is to be paid.`,
    correctionOf: (invoiceNumber) => `Correction of invoice ${invoiceNumber}`,
    nothingToPay: 'This invoice has been paid. Thank you.',
    scanToPay: 'Scan with your banking app to pay',
    callDetails: 'Call details',
    callStart: 'Start',
    callDestination: 'Destination',
    callSeconds: 'Seconds',
    callCost: 'Cost',
    callsNotKept: 'Call details are no longer kept.',
    callsPastContest: 'Call details are no longer kept: the bill can no longer be contested (G-1).',
    callsNotUnderPurpose: 'Call details are not available under this purpose.',
    callsNotListed: (notListed, listed) =>
      `This PDF lists the first ${listed} calls; ${notListed} calls are not listed. ` +
      'The summary per destination group is in the invoice lines above. ' +
      'The full list is in the HTML version of this invoice or available on request.',
    callWords: { colon: ': ', one: 'call', many: 'calls' },
    builtInGroups: {
      be_fixed: 'Calls to Belgian fixed numbers',
      be_mobile: 'Calls to Belgian mobile numbers',
      international: 'International calls',
      special: 'Calls to service and special numbers',
    },
    lateCalls: (month, calls, duration) =>
      `Calls of ${month} not on that month's invoice: ${calls} ${calls === 1 ? 'call' : 'calls'}, ${duration}`,
    remainingCalls: (month, calls, duration) =>
      `Calls of ${month} not billed before: ${calls} ${calls === 1 ? 'call' : 'calls'}, ${duration}`,
    page: (page, pages) => `Page ${page} of ${pages}`,
    exemptions: {
      'VATEX-EU-AE': 'Reverse charge (art. 196 VAT directive)',
    },
  },
};

export const isDocumentLanguage = (value: string | null | undefined): value is DocumentLanguage =>
  value === 'nl' || value === 'fr' || value === 'en';

/** The tenant's own language for documents: the first of its statement languages Kluis writes in. */
export function defaultDocumentLanguage(policy: Policy): DocumentLanguage {
  return policy.statement.languages.find(isDocumentLanguage) ?? 'en';
}

/**
 * The language a new document is written in: the customer's preferred one when it is one we write
 * in (a German speaker gets the tenant's default: no German texts yet), else the tenant's default.
 */
export function documentLanguageOf(preferred: string | null | undefined, policy: Policy): DocumentLanguage {
  return isDocumentLanguage(preferred) ? preferred : defaultDocumentLanguage(policy);
}

/** 123456 → "€ 1.234,56" (nl), "1 234,56 €" (fr), "€1,234.56" (en). */
export function formatMoney(cents: number, language: DocumentLanguage): string {
  const [units = '0', decimals = '00'] = formatAmount(Math.abs(cents)).split('.');
  const sign = cents < 0 ? '-' : '';
  const group = (separator: string) => units.replace(/\B(?=(\d{3})+(?!\d))/g, separator);
  if (language === 'fr') return `${sign}${group(' ')},${decimals} €`;
  if (language === 'en') return `${sign}€${group(',')}.${decimals}`;
  return `${sign}€ ${group('.')},${decimals}`;
}

/** YYYY-MM-DD → DD/MM/YYYY, as Belgians write dates in all three languages. */
export function formatDocumentDate(date: string): string {
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  return match ? `${match[3]}/${match[2]}/${match[1]}` : date;
}

/** 2100 → "21", 550 → "5,5" (nl/fr) or "5.5" (en). */
export function formatRate(rateBp: number, language: DocumentLanguage): string {
  const text = String(rateBp / 100);
  return language === 'en' ? text : text.replace('.', ',');
}

/** The exemption mention of a VAT group: our own words for a code we apply, else the stored reason. */
export function exemptionText(
  texts: DocumentTexts,
  subtotal: { exemptionCode?: string | null; exemptionReason?: string | null },
): string | null {
  const own = subtotal.exemptionCode ? texts.exemptions[subtotal.exemptionCode] : undefined;
  return own ?? subtotal.exemptionReason ?? subtotal.exemptionCode ?? null;
}

/**
 * A calls line per destination group in the document's language: "Nationaal vast: 3 gesprekken,
 * 4 min 00 s". The invoice run's SQL drafting (invoice-run.repository.ts) builds the same text
 * from the same words; invoice-run.sql-drafting.test.ts keeps them equal.
 */
export function callGroupLine(
  language: DocumentLanguage,
  label: string,
  calls: number,
  duration: string,
): string {
  const words = DOCUMENT_TEXTS[language].callWords;
  return `${label}${words.colon}${calls} ${calls === 1 ? words.one : words.many}, ${duration}`;
}

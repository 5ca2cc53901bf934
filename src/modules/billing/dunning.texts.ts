import { parseStructuredCommunication } from '../../kernel/identifiers/structured-communication.js';
import { formatEuro } from './amounts.js';
import { longDate } from '../../platform/calendar.js';
import { inlineFacts } from '../../platform/mail-text.js';

/** The languages reminders are written in (the customer's, else the statement's first). */
export const REMINDER_LANGUAGES = ['nl', 'fr', 'en'] as const;
export type ReminderLanguage = (typeof REMINDER_LANGUAGES)[number];

/** 1, 2: reminders; 3: the formal notice (ingebrekestelling, mise en demeure). */
export type ReminderLevel = 1 | 2 | 3;

export interface ReminderFacts {
  level: ReminderLevel;
  /** The person's name as the purpose covers it; a neutral greeting otherwise. */
  name: string | null;
  invoiceNumber: string;
  issueDate: string;
  dueDate: string;
  balanceCents: number;
  payBy: string;
  structuredCommunication: string;
  payeeIban: string;
  payeeBic: string | null;
  /** The provider, as it signs, and where the customer reaches it (the policy's controller e-mail). */
  sender: string;
  contact: string | null;
}

interface Wording {
  subject: Record<ReminderLevel, (number: string) => string>;
  greeting: (name: string | null) => string;
  opening: Record<ReminderLevel, (number: string, issued: string, due: string) => string>;
  amount: string;
  account: string;
  communication: string;
  payBy: Record<ReminderLevel, (day: string) => string>;
  paid: string;
  dispute: (contact: string | null) => string;
  closing: string;
  /** `: ` or, in French, ` : `. */
  colon: string;
}

const WORDING: Record<ReminderLanguage, Wording> = {
  nl: {
    subject: {
      1: (n) => `Herinnering: factuur ${n} is nog niet betaald`,
      2: (n) => `Tweede herinnering: factuur ${n} is nog niet betaald`,
      3: (n) => `Ingebrekestelling: factuur ${n}`,
    },
    greeting: (name) => (name ? `Beste ${name},` : 'Beste klant,'),
    opening: {
      1: (n, issued, due) =>
        `Volgens onze gegevens is factuur ${n} van ${issued} nog niet (volledig) betaald. De vervaldag was ${due}.`,
      2: (n, issued, due) =>
        `Wij stuurden u al een herinnering, maar factuur ${n} van ${issued} is nog altijd niet (volledig) betaald. De vervaldag was ${due}.`,
      3: (n, issued, due) =>
        `Ondanks twee herinneringen is factuur ${n} van ${issued}, vervallen op ${due}, nog altijd niet (volledig) betaald. Met deze brief stellen wij u formeel in gebreke.`,
    },
    amount: 'Openstaand bedrag',
    account: 'Rekening',
    communication: 'Gestructureerde mededeling',
    payBy: {
      1: (day) => `Wij vragen u dit bedrag te betalen uiterlijk op ${day}.`,
      2: (day) => `Wij vragen u dit bedrag te betalen uiterlijk op ${day}.`,
      3: (day) =>
        `Betaal het openstaande bedrag uiterlijk op ${day}. Daarna kunnen wij de invordering uit handen geven aan een incassobureau of een gerechtsdeurwaarder.`,
    },
    paid: 'Hebt u intussen betaald, dan mag u deze brief als niet verzonden beschouwen.',
    dispute: (contact) =>
      `Bent u het niet eens met de factuur, neem dan contact met ons op${contact ? ` (${contact})` : ''}: zolang wij uw bezwaar behandelen, sturen wij geen herinneringen.`,
    closing: 'Met vriendelijke groeten,',
    colon: ': ',
  },
  fr: {
    subject: {
      1: (n) => `Rappel : la facture ${n} n'est pas encore payée`,
      2: (n) => `Deuxième rappel : la facture ${n} n'est pas encore payée`,
      3: (n) => `Mise en demeure : facture ${n}`,
    },
    greeting: (name) => (name ? `Bonjour ${name},` : 'Madame, Monsieur,'),
    opening: {
      1: (n, issued, due) =>
        `Selon nos données, la facture ${n} du ${issued} n'est pas encore (entièrement) payée. Elle était échue le ${due}.`,
      2: (n, issued, due) =>
        `Nous vous avons déjà envoyé un rappel, mais la facture ${n} du ${issued} n'est toujours pas (entièrement) payée. Elle était échue le ${due}.`,
      3: (n, issued, due) =>
        `Malgré deux rappels, la facture ${n} du ${issued}, échue le ${due}, n'est toujours pas (entièrement) payée. Par la présente, nous vous mettons formellement en demeure.`,
    },
    amount: 'Montant dû',
    account: 'Compte',
    communication: 'Communication structurée',
    payBy: {
      1: (day) => `Nous vous prions de payer ce montant au plus tard le ${day}.`,
      2: (day) => `Nous vous prions de payer ce montant au plus tard le ${day}.`,
      3: (day) =>
        `Payez le montant dû au plus tard le ${day}. Passé ce délai, nous pourrons confier le recouvrement à une agence de recouvrement ou à un huissier de justice.`,
    },
    paid: 'Si vous avez payé entre-temps, veuillez ne pas tenir compte de ce courrier.',
    dispute: (contact) =>
      `Si vous contestez la facture, contactez-nous${contact ? ` (${contact})` : ''} : tant que nous traitons votre contestation, nous n'envoyons pas de rappel.`,
    closing: 'Meilleures salutations,',
    colon: ' : ',
  },
  en: {
    subject: {
      1: (n) => `Reminder: invoice ${n} has not been paid yet`,
      2: (n) => `Second reminder: invoice ${n} has not been paid yet`,
      3: (n) => `Formal notice: invoice ${n}`,
    },
    greeting: (name) => (name ? `Dear ${name},` : 'Dear customer,'),
    opening: {
      1: (n, issued, due) =>
        `According to our records, invoice ${n} of ${issued} has not been paid (in full) yet. It was due on ${due}.`,
      2: (n, issued, due) =>
        `We already sent you a reminder, but invoice ${n} of ${issued} has still not been paid (in full). It was due on ${due}.`,
      3: (n, issued, due) =>
        `Despite two reminders, invoice ${n} of ${issued}, due on ${due}, has still not been paid (in full). With this letter we give you formal notice.`,
    },
    amount: 'Amount due',
    account: 'Account',
    communication: 'Structured communication',
    payBy: {
      1: (day) => `Please pay this amount by ${day} at the latest.`,
      2: (day) => `Please pay this amount by ${day} at the latest.`,
      3: (day) =>
        `Pay the amount due by ${day} at the latest. After that date we may hand the claim over to a collection agency or a bailiff.`,
    },
    paid: 'If you have paid in the meantime, please disregard this letter.',
    dispute: (contact) =>
      `If you disagree with the invoice, contact us${contact ? ` (${contact})` : ''}: while we look into your objection, we send no reminders.`,
    closing: 'Kind regards,',
    colon: ': ',
  },
};

/** The reminder's subject and text in one language; plain text, nothing the person did not get before. */
export function writeReminder(
  language: ReminderLanguage,
  given: ReminderFacts,
): { subject: string; text: string } {
  // A name typed with a line break stays on its line (no extra line, no header look-alike).
  const facts = inlineFacts(given);
  const w = WORDING[language];
  const day = (value: string) => longDate(value, language);
  const parsed = parseStructuredCommunication(facts.structuredCommunication);
  const communication = parsed.ok ? parsed.formatted : facts.structuredCommunication;
  // An IBAN as printed for people: groups of four.
  const iban = facts.payeeIban.replace(/\s+/g, '').replace(/(.{4})(?=.)/g, '$1 ');
  const account = facts.payeeBic ? `${iban} (BIC ${facts.payeeBic})` : iban;
  const text = [
    w.greeting(facts.name),
    '',
    w.opening[facts.level](facts.invoiceNumber, day(facts.issueDate), day(facts.dueDate)),
    '',
    `${w.amount}${w.colon}${formatEuro(facts.balanceCents)}`,
    `${w.account}${w.colon}${account}`,
    `${w.communication}${w.colon}${communication}`,
    '',
    w.payBy[facts.level](day(facts.payBy)),
    w.paid,
    w.dispute(facts.contact),
    '',
    w.closing,
    facts.sender,
    '',
  ].join('\n');
  return { subject: w.subject[facts.level](facts.invoiceNumber), text };
}

import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import { inline } from '../../platform/mail-text.js';

/**
 * The words of the breach notification to the Belgian authority (GDPR Art. 33(3), nl or fr), of
 * the letters to the persons affected (Art. 34, in each person's language) and of the reminders
 * to the privacy contact. Every fact is passed in; nothing here is personal data.
 */

export interface IncidentFacts {
  incidentId: number;
  /** What happened, as the privacy officer wrote it in the assessment (never the report's text, 0895). */
  whatHappened: string;
  noticedAt: Date;
  awareAt: Date;
  deadline: Date;
  /** Hours left until the deadline (negative: late). */
  hoursLeft: number;
  affectedCount: number;
  subjectTypes: string[];
  categories: string[];
  risk: 'none' | 'low' | 'high' | null;
  riskAssessment: string | null;
  measures: string | null;
}

const when = (at: Date, lang: Language): string =>
  new Intl.DateTimeFormat(lang === 'en' ? 'en-GB' : `${lang}-BE`, {
    dateStyle: 'long',
    timeStyle: 'short',
    timeZone: 'Europe/Brussels',
  }).format(at);

const label = (
  record: Record<string, { label: Record<Language, string> }>,
  key: string,
  lang: Language,
): string => (Object.hasOwn(record, key) ? (record[key]?.label[lang] ?? key) : key);

const RISK: Record<'nl' | 'fr', Record<'none' | 'low' | 'high' | 'unknown', string>> = {
  nl: { none: 'geen risico', low: 'laag risico', high: 'hoog risico', unknown: 'nog niet beoordeeld' },
  fr: { none: 'aucun risque', low: 'risque faible', high: 'risque élevé', unknown: 'pas encore évalué' },
};

/** The notification to the supervisory authority, with the content Art. 33(3) requires. */
export function authorityNotification(
  policy: Policy,
  facts: IncidentFacts,
  lang: 'nl' | 'fr',
): { subject: string; text: string } {
  const c = policy.controller;
  const contact = [c.privacyContact.email, c.privacyContact.phone].filter(Boolean).join(', ');
  const subjects = facts.subjectTypes.map((key) => label(policy.subjectTypes, key, lang)).join(', ') || '—';
  const categories = facts.categories.map((key) => label(policy.categories, key, lang)).join(', ') || '—';
  const late = facts.hoursLeft < 0;
  const authority = policy.supervisoryAuthority.name[lang];
  const risk = RISK[lang][facts.risk ?? 'unknown'];
  if (lang === 'fr') {
    return {
      subject: `Notification d'une violation de données à caractère personnel (art. 33 RGPD) – ${c.legalName} ${c.legalForm}, incident ${facts.incidentId}`,
      text: [
        `À l'attention de : ${authority}, ${policy.supervisoryAuthority.email}`,
        '',
        `Responsable du traitement : ${c.legalName} ${c.legalForm}, ${c.enterpriseNumber}, ${c.address.street}, ${c.address.postalCode} ${c.address.city}`,
        `Date et heure de la constatation : ${when(facts.noticedAt, 'fr')}`,
        `Date et heure de la prise de connaissance de la violation : ${when(facts.awareAt, 'fr')}`,
        `Délai de notification (72 heures) : ${when(facts.deadline, 'fr')}`,
        '',
        "a) Nature de la violation, catégories et nombre approximatif de personnes concernées et d'enregistrements concernés",
        facts.whatHappened,
        `Catégories de personnes concernées : ${subjects}`,
        `Nombre approximatif de personnes concernées : ${facts.affectedCount}`,
        `Catégories de données concernées : ${categories}`,
        '',
        'b) Délégué à la protection des données ou autre point de contact',
        contact,
        '',
        'c) Conséquences probables de la violation',
        `${risk}${facts.riskAssessment ? ` : ${facts.riskAssessment}` : ''}`,
        '',
        'd) Mesures prises ou proposées, y compris pour en atténuer les éventuelles conséquences négatives',
        facts.measures ?? '—',
        ...(late
          ? [
              '',
              'Motifs du retard (art. 33, par. 1) : la notification intervient après le délai de 72 heures, pour les raisons suivantes : …',
            ]
          : []),
      ].join('\n'),
    };
  }
  return {
    subject: `Melding van een inbreuk in verband met persoonsgegevens (art. 33 AVG) – ${c.legalName} ${c.legalForm}, incident ${facts.incidentId}`,
    text: [
      `Aan: ${authority}, ${policy.supervisoryAuthority.email}`,
      '',
      `Verwerkingsverantwoordelijke: ${c.legalName} ${c.legalForm}, ${c.enterpriseNumber}, ${c.address.street}, ${c.address.postalCode} ${c.address.city}`,
      `Datum en uur van de vaststelling: ${when(facts.noticedAt, 'nl')}`,
      `Datum en uur waarop wij kennis kregen van de inbreuk: ${when(facts.awareAt, 'nl')}`,
      `Uiterste meldingstermijn (72 uur): ${when(facts.deadline, 'nl')}`,
      '',
      'a) Aard van de inbreuk, de categorieën en het geschatte aantal betrokkenen en persoonsgegevensregisters',
      facts.whatHappened,
      `Categorieën van betrokkenen: ${subjects}`,
      `Geschat aantal betrokkenen: ${facts.affectedCount}`,
      `Categorieën van persoonsgegevens: ${categories}`,
      '',
      'b) Functionaris voor gegevensbescherming of ander contactpunt',
      contact,
      '',
      'c) Waarschijnlijke gevolgen van de inbreuk',
      `${risk}${facts.riskAssessment ? `: ${facts.riskAssessment}` : ''}`,
      '',
      'd) Genomen of voorgestelde maatregelen, waaronder maatregelen ter beperking van de eventuele nadelige gevolgen',
      facts.measures ?? '—',
      ...(late
        ? [
            '',
            'Redenen voor de vertraging (art. 33, lid 1): deze melding gebeurt na de termijn van 72 uur, om de volgende redenen: …',
          ]
        : []),
    ].join('\n'),
  };
}

const LETTER: Record<
  Language,
  {
    subject: string;
    hello: (name: string) => string;
    what: string;
    consequences: string;
    measures: string;
    contact: string;
    authority: string;
  }
> = {
  nl: {
    subject: 'Belangrijk: een inbreuk in verband met uw persoonsgegevens',
    hello: (name) => `Beste ${name},`,
    what: 'Wij moeten u melden dat er een inbreuk is gebeurd die uw persoonsgegevens kan raken. Wat er gebeurde:',
    consequences: 'Wat dit voor u kan betekenen:',
    measures: 'Wat wij gedaan hebben en wat u zelf kunt doen:',
    contact: 'Met vragen kunt u terecht bij',
    authority: 'U kunt ook een klacht indienen bij de',
  },
  fr: {
    subject: 'Important : une violation concernant vos données à caractère personnel',
    hello: (name) => `Madame, Monsieur ${name},`,
    what: "Nous devons vous informer qu'une violation pouvant concerner vos données à caractère personnel s'est produite. Ce qui s'est passé :",
    consequences: 'Ce que cela peut signifier pour vous :',
    measures: 'Ce que nous avons fait et ce que vous pouvez faire :',
    contact: 'Pour toute question, adressez-vous à',
    authority: 'Vous pouvez aussi introduire une plainte auprès de l’',
  },
  en: {
    subject: 'Important: a breach concerning your personal data',
    hello: (name) => `Dear ${name},`,
    what: 'We have to tell you that a breach has occurred that may affect your personal data. What happened:',
    consequences: 'What this may mean for you:',
    measures: 'What we have done, and what you can do:',
    contact: 'For questions, contact',
    authority: 'You may also lodge a complaint with the',
  },
};

/** The letter to a person affected by a breach (Art. 34(2)), in their language. */
export function personLetter(
  policy: Policy,
  facts: IncidentFacts,
  lang: Language,
  given: string,
): { subject: string; text: string } {
  // The person's name on one line; what happened and the measures are paragraphs the officer wrote.
  const name = inline(given);
  const t = LETTER[lang];
  const c = policy.controller;
  const contact = [c.privacyContact.email, c.privacyContact.phone].filter(Boolean).join(', ');
  return {
    subject: `${t.subject} – ${c.legalName} ${c.legalForm}`,
    text: [
      t.hello(name),
      '',
      t.what,
      facts.whatHappened,
      '',
      t.consequences,
      facts.riskAssessment ?? '—',
      '',
      t.measures,
      facts.measures ?? '—',
      '',
      `${t.contact} ${contact}.`,
      `${t.authority} ${policy.supervisoryAuthority.name[lang]} (${policy.supervisoryAuthority.website}).`,
      '',
      `${c.legalName} ${c.legalForm}`,
    ].join('\n'),
  };
}

const REMINDER: Record<
  Language,
  { left: (hours: number) => string; late: (hours: number) => string; body: string }
> = {
  nl: {
    left: (hours) => `nog ${hours} uur om de inbreuk te melden`,
    late: (hours) =>
      hours === 0 ? 'de meldingstermijn is nu verstreken' : `de meldingstermijn is ${hours} uur verstreken`,
    body: 'Meld de inbreuk aan de toezichthouder (het ontwerp staat klaar in Kluis), of leg vast waarom ze niet gemeld wordt (art. 33, lid 5 AVG).',
  },
  fr: {
    left: (hours) => `plus que ${hours} heures pour notifier la violation`,
    late: (hours) =>
      hours === 0
        ? 'le délai de notification expire maintenant'
        : `le délai de notification est dépassé de ${hours} heures`,
    body: "Notifiez la violation à l'autorité de contrôle (le projet est prêt dans Kluis), ou consignez pourquoi elle n'est pas notifiée (art. 33, par. 5 RGPD).",
  },
  en: {
    left: (hours) => `${hours} hours left to notify the breach`,
    late: (hours) =>
      hours === 0
        ? 'the notification deadline is now'
        : `the notification deadline passed ${hours} hours ago`,
    body: 'Notify the breach to the supervisory authority (the draft is ready in Kluis), or record why it is not notified (GDPR Art. 33(5)).',
  },
};

/** A reminder to the privacy contact about an open breach on the 72-hour clock. */
export function reminderMail(
  policy: Policy,
  facts: Pick<IncidentFacts, 'incidentId' | 'awareAt' | 'deadline' | 'hoursLeft'>,
  lang: Language,
): { subject: string; text: string } {
  const t = REMINDER[lang];
  const status = facts.hoursLeft > 0 ? t.left(facts.hoursLeft) : t.late(-facts.hoursLeft);
  return {
    subject: `Incident ${facts.incidentId}: ${status} (GDPR art. 33)`,
    text: [
      `Incident ${facts.incidentId}: ${status}.`,
      `${when(facts.awareAt, lang)} → ${when(facts.deadline, lang)}`,
      '',
      t.body,
      '',
      `${policy.controller.legalName} ${policy.controller.legalForm}`,
    ].join('\n'),
  };
}

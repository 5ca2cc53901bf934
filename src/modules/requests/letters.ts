import type { Language, LegalBasis, Policy } from '../../kernel/policy/policy.schema.js';
import type { RequestKind } from './requests.tables.js';
import { isIsoDay, longDate } from '../../platform/calendar.js';
import { inlineFacts } from '../../platform/mail-text.js';

export type LetterOutcome =
  | 'verification_code'
  | 'login_link'
  | 'received'
  | 'extended'
  | 'fulfilled'
  | 'rejected'
  | 'download_ready'
  | 'data_enclosed'
  | 'transfer_sent'
  | 'transfer_failed'
  | 'erasure_deferred'
  | 'restriction_lift';

export interface LetterFacts {
  kind: RequestKind;
  outcome: LetterOutcome;
  receivedOn: string;
  dueOn: string;
  code?: string;
  link?: string;
  /** Host of the organisation a portability package was pushed to (shown to the person only). */
  transferHost?: string;
  reason?: string;
  erased?: string[];
  kept?: Array<{ what: string; why: string; until: string }>;
  /** Objection or withdrawal: the purposes (labels) stopped at once. */
  stopped?: string[];
  /** Objection or withdrawal: the purposes (labels) not stopped, each with why (Art. 12(4), 21(1)). */
  notStopped?: Array<{ what: string; why: string }>;
  /**
   * An erasure deferred while a contract runs (decision 1210): the relation's last day (null: a
   * contract without an end date), and whether this letter tells of a changed day.
   */
  deferred?: { lastDay: string | null; changed: boolean };
  /** Restriction lift (Art. 18(3)): the day it ends, and why (decision 1200). */
  liftOn?: string;
  liftGround?: RestrictionLiftGround;
}

/** Why staff lift a restriction: the end of the Art. 18(1) case it was asked for, or the person's wish. */
export const RESTRICTION_LIFT_GROUNDS = [
  'accuracy_verified',
  'objection_decided',
  'legal_claim_ended',
  'person_asked',
] as const;
export type RestrictionLiftGround = (typeof RESTRICTION_LIFT_GROUNDS)[number];

const LIFT_GROUND: Record<Language, Record<RestrictionLiftGround, string>> = {
  nl: {
    accuracy_verified: 'we hebben de juistheid van uw gegevens nagekeken',
    objection_decided: 'we hebben over uw bezwaar beslist',
    legal_claim_ended: 'u hebt de gegevens niet langer nodig voor een rechtsvordering',
    person_asked: 'u hebt ons gevraagd de beperking op te heffen',
  },
  fr: {
    accuracy_verified: 'nous avons vérifié l’exactitude de vos données',
    objection_decided: 'nous avons statué sur votre opposition',
    legal_claim_ended: 'vous n’avez plus besoin des données pour un droit en justice',
    person_asked: 'vous nous avez demandé de lever la limitation',
  },
  en: {
    accuracy_verified: 'we have verified the accuracy of your data',
    objection_decided: 'we have decided on your objection',
    legal_claim_ended: 'you no longer need the data for a legal claim',
    person_asked: 'you asked us to lift the restriction',
  },
};

const KIND_LABEL: Record<Language, Record<RequestKind, string>> = {
  nl: {
    access: 'inzage in uw gegevens',
    portability: 'overdracht van uw gegevens',
    rectification: 'verbetering van uw gegevens',
    erasure: 'wissing van uw gegevens',
    restriction: 'beperking van de verwerking',
    objection: 'bezwaar tegen de verwerking',
    withdraw_consent: 'intrekking van uw toestemming',
    object_direct_marketing: 'bezwaar tegen direct marketing',
  },
  fr: {
    access: 'accès à vos données',
    portability: 'portabilité de vos données',
    rectification: 'rectification de vos données',
    erasure: 'effacement de vos données',
    restriction: 'limitation du traitement',
    objection: 'opposition au traitement',
    withdraw_consent: 'retrait de votre consentement',
    object_direct_marketing: 'opposition au marketing direct',
  },
  en: {
    access: 'access to your data',
    portability: 'portability of your data',
    rectification: 'rectification of your data',
    erasure: 'erasure of your data',
    restriction: 'restriction of processing',
    objection: 'objection to processing',
    withdraw_consent: 'withdrawal of your consent',
    object_direct_marketing: 'objection to direct marketing',
  },
};

const TEXT = {
  nl: {
    subject: (kind: string) => `Uw verzoek: ${kind}`,
    loginSubject: 'Uw link om in te loggen',
    greeting: 'Beste,',
    code: (code: string, link: string) =>
      `Om te bevestigen dat u het bent, geeft u deze code in op de pagina "Geef de code in": ${code}\nDie pagina opent u met deze link:\n${link}\nDe code is 15 minuten geldig. Vroeg u niets aan, dan mag u deze e-mail negeren.`,
    received: (received: string, due: string) =>
      `We ontvingen uw verzoek op ${received}. U krijgt ons antwoord uiterlijk op ${due}.`,
    extended: (due: string, reason: string) =>
      `We hebben meer tijd nodig om uw verzoek te beantwoorden. U krijgt ons antwoord uiterlijk op ${due}. Reden: ${reason}`,
    fulfilled: 'We hebben uw verzoek uitgevoerd.',
    restrictionLift: (received: string, liftOn: string, why: string) =>
      `U vroeg op ${received} de verwerking van uw gegevens te beperken. We heffen die beperking op vanaf ${liftOn}, omdat ${why}. Vanaf die dag gebruiken we uw gegevens weer zoals onze privacyverklaring beschrijft, en bewaren we ze niet langer dan de termijnen daarin.`,
    erased: 'Gewist:',
    backups:
      'In onze back-ups: uw versleutelde gegevens (e-mailadres, telefoonnummer, rekeningnummers en andere gevoelige velden) kan niemand meer lezen, want de sleutel die ze opende is vernietigd. Uw overige gegevens (zoals uw naam en uw oproepgegevens) staan daar niet versleuteld; wordt ooit een oudere back-up teruggezet, dan wist het systeem ze opnieuw uit ons wissingsregister voor het weer in gebruik gaat.',
    kept: 'Wat we nog moeten bewaren, waarom en tot wanneer:',
    keptItem: (what: string, why: string, until: string) =>
      until === '' ? `${what}: ${why}.` : `${what}: ${why}. Tot: ${until}.`,
    rejected: (reason: string) => `We kunnen op uw verzoek niet ingaan. Reden: ${reason}`,
    download: (link: string) =>
      `Uw gegevens staan klaar. Deze link werkt 7 dagen lang, voor één volledige download (een onderbroken download kunt u opnieuw starten, tot 3 keer):\n${link}`,
    enclosed: (portability: boolean) =>
      portability
        ? 'Uw gegevens zitten bij deze brief, in een gangbaar, machineleesbaar formaat (een ZIP-bestand met een JSON-bestand en een CSV-bestand per tabel).'
        : 'Uw gegevens zitten bij deze brief: het overzicht van alle gegevens die we over u bewaren, met waarvoor we ze gebruiken, op welke grond, aan wie we ze geven en hoe lang we ze bewaren.',
    transferSent: (host: string) => `Zoals gevraagd hebben we uw gegevens overgedragen aan ${host}.`,
    transferFailed: (host: string) =>
      `Zoals gevraagd probeerden we uw gegevens over te dragen aan ${host}, maar dat is niet gelukt.`,
    login: (link: string) =>
      `Met deze link meldt u zich aan op uw privacyportaal. Hij werkt één keer en 15 minuten lang:\n${link}`,
    complaint: (authority: string) =>
      `Bent u niet tevreden, dan kunt u een klacht indienen bij de ${authority}.`,
    stopped: 'Stopgezet, met onmiddellijke ingang:',
    notStopped: 'Niet stopgezet, en waarom:',
    nothingStopped: 'geen van de verwerkingen waarop uw verzoek slaat, kan op deze manier worden stopgezet.',
    deferred: (lastDay: string | null, eraseOn: string | null, changed: boolean) =>
      [
        changed
          ? 'U vroeg ons uw gegevens te wissen. Sinds ons vorige bericht is de laatste dag van uw contracten bij ons veranderd.'
          : 'U vroeg ons uw gegevens te wissen. U hebt bij ons een contract dat nog loopt; zolang het loopt, hebben wij uw gegevens nodig om het uit te voeren en te factureren (AVG art. 6, lid 1, b).',
        lastDay && eraseOn
          ? `Wij wissen uw gegevens de dag na de laatste dag van uw contract (${lastDay}), dus op ${eraseOn}. U hoeft het niet opnieuw te vragen.`
          : 'Uw contract heeft geen einddatum. Wij wissen uw gegevens de dag na de laatste dag ervan, zodra het beëindigd is (u zegt het op schriftelijk, per e-mail of telefonisch). U hoeft het niet opnieuw te vragen.',
        'Sluit u voor die dag een nieuw contract met ons, dan wachten wij ook op het einde daarvan en laten wij u de nieuwe datum weten. Wat de wet ons verplicht te bewaren, zoals uw facturen, blijft bewaard; na de wissing krijgt u een brief met wat gewist is en wat nog bewaard wordt.',
      ].join(' '),
    regards: 'Met vriendelijke groeten,',
  },
  fr: {
    subject: (kind: string) => `Votre demande : ${kind}`,
    loginSubject: 'Votre lien de connexion',
    greeting: 'Bonjour,',
    code: (code: string, link: string) =>
      `Pour confirmer qu’il s’agit bien de vous, saisissez ce code sur la page « Saisissez le code » : ${code}\nCe lien ouvre cette page :\n${link}\nLe code est valable 15 minutes. Si vous n'avez rien demandé, ignorez cet e-mail.`,
    received: (received: string, due: string) =>
      `Nous avons reçu votre demande le ${received}. Vous recevrez notre réponse au plus tard le ${due}.`,
    extended: (due: string, reason: string) =>
      `Nous avons besoin de plus de temps pour répondre. Vous recevrez notre réponse au plus tard le ${due}. Motif : ${reason}`,
    fulfilled: 'Nous avons exécuté votre demande.',
    erased: 'Effacé :',
    backups:
      'Dans nos sauvegardes : vos données chiffrées (adresse e-mail, numéro de téléphone, numéros de compte et autres champs sensibles) ne peuvent plus être lues par personne, car la clé qui les ouvrait a été détruite. Vos autres données (comme votre nom et vos données d’appel) n’y sont pas chiffrées ; si une sauvegarde plus ancienne est un jour restaurée, le système les efface à nouveau d’après notre registre des effacements avant d’être remis en service.',
    kept: 'Ce que nous devons encore conserver, pourquoi et jusqu’à quand :',
    keptItem: (what: string, why: string, until: string) =>
      until === '' ? `${what} : ${why}.` : `${what} : ${why}. Jusqu’à : ${until}.`,
    rejected: (reason: string) => `Nous ne pouvons pas donner suite à votre demande. Motif : ${reason}`,
    download: (link: string) =>
      `Vos données sont prêtes. Ce lien fonctionne pendant 7 jours, pour un téléchargement complet (un téléchargement interrompu peut être relancé, jusqu’à 3 fois) :\n${link}`,
    enclosed: (portability: boolean) =>
      portability
        ? 'Vos données sont jointes à cette lettre, dans un format courant et lisible par machine (un fichier ZIP contenant un fichier JSON et un fichier CSV par table).'
        : 'Vos données sont jointes à cette lettre : l’aperçu de toutes les données que nous conservons sur vous, avec leurs finalités, leur base légale, leurs destinataires et leur durée de conservation.',
    transferSent: (host: string) => `Comme demandé, nous avons transmis vos données à ${host}.`,
    transferFailed: (host: string) =>
      `Comme demandé, nous avons tenté de transmettre vos données à ${host}, sans succès.`,
    login: (link: string) =>
      `Ce lien vous connecte à votre portail vie privée. Il fonctionne une seule fois, pendant 15 minutes :\n${link}`,
    complaint: (authority: string) =>
      `Si vous n'êtes pas satisfait, vous pouvez introduire une plainte auprès de l'${authority}.`,
    stopped: 'Arrêté, avec effet immédiat :',
    notStopped: 'Non arrêté, et pourquoi :',
    restrictionLift: (received: string, liftOn: string, why: string) =>
      `Le ${received}, vous avez demandé la limitation du traitement de vos données. Nous levons cette limitation à partir du ${liftOn}, car ${why}. À partir de ce jour, nous utilisons à nouveau vos données comme le décrit notre déclaration de confidentialité, et nous ne les conservons pas au-delà des durées qu’elle indique.`,
    nothingStopped: 'aucun des traitements visés par votre demande ne peut être arrêté de cette manière.',
    deferred: (lastDay: string | null, eraseOn: string | null, changed: boolean) =>
      [
        changed
          ? 'Vous nous avez demandé d’effacer vos données. Depuis notre dernier message, le dernier jour de vos contrats chez nous a changé.'
          : 'Vous nous avez demandé d’effacer vos données. Vous avez chez nous un contrat toujours en cours ; tant qu’il court, nous avons besoin de vos données pour l’exécuter et le facturer (RGPD art. 6, par. 1, b).',
        lastDay && eraseOn
          ? `Nous effaçons vos données le lendemain du dernier jour de votre contrat (${lastDay}), donc le ${eraseOn}. Vous ne devez pas le redemander.`
          : 'Votre contrat n’a pas de date de fin. Nous effaçons vos données le lendemain de son dernier jour, dès qu’il est résilié (par écrit, par e-mail ou par téléphone). Vous ne devez pas le redemander.',
        'Si vous concluez un nouveau contrat avec nous avant ce jour, nous attendons aussi sa fin et vous communiquons la nouvelle date. Ce que la loi nous oblige à conserver, comme vos factures, reste conservé ; après l’effacement, vous recevez une lettre indiquant ce qui est effacé et ce qui est encore conservé.',
      ].join(' '),
    regards: 'Meilleures salutations,',
  },
  en: {
    subject: (kind: string) => `Your request: ${kind}`,
    loginSubject: 'Your login link',
    greeting: 'Hello,',
    code: (code: string, link: string) =>
      `To confirm it is you, enter this code on the page "Enter the code": ${code}\nThis link opens that page:\n${link}\nThe code is valid for 15 minutes. If you did not ask for anything, ignore this e-mail.`,
    received: (received: string, due: string) =>
      `We received your request on ${received}. You will have our answer by ${due} at the latest.`,
    extended: (due: string, reason: string) =>
      `We need more time to answer your request. You will have our answer by ${due} at the latest. Reason: ${reason}`,
    fulfilled: 'We have carried out your request.',
    erased: 'Erased:',
    backups:
      'In our backups: your encrypted data (e-mail address, phone number, account numbers and other sensitive fields) can no longer be read by anyone, because the key that opened it has been destroyed. Your other data (such as your name and your call records) is not encrypted there; if an older backup is ever restored, the system erases it again from our erasure register before it is used again.',
    kept: 'What we still have to keep, why and until when:',
    keptItem: (what: string, why: string, until: string) =>
      until === '' ? `${what}: ${why}.` : `${what}: ${why}. Until: ${until}.`,
    rejected: (reason: string) => `We cannot act on your request. Reason: ${reason}`,
    download: (link: string) =>
      `Your data is ready. This link works for 7 days, for one complete download (an interrupted download can be started again, up to 3 times):\n${link}`,
    enclosed: (portability: boolean) =>
      portability
        ? 'Your data is enclosed with this letter, in a commonly used, machine-readable format (a ZIP file with a JSON file and a CSV file per table).'
        : 'Your data is enclosed with this letter: the overview of all data we hold about you, with what we use it for, on what ground, to whom we give it and how long we keep it.',
    transferSent: (host: string) => `As you asked, we have transferred your data to ${host}.`,
    transferFailed: (host: string) =>
      `As you asked, we tried to transfer your data to ${host}, but this did not succeed.`,
    login: (link: string) =>
      `This link logs you in to your privacy portal. It works once, for 15 minutes:\n${link}`,
    complaint: (authority: string) =>
      `If you are not satisfied, you can lodge a complaint with the ${authority}.`,
    stopped: 'Stopped, with immediate effect:',
    notStopped: 'Not stopped, and why:',
    restrictionLift: (received: string, liftOn: string, why: string) =>
      `On ${received} you asked us to restrict the processing of your data. We will lift that restriction from ${liftOn}, because ${why}. From that day we use your data again as our privacy statement describes, and keep it no longer than the periods it gives.`,
    nothingStopped: 'none of the processing your request concerns can be stopped this way.',
    deferred: (lastDay: string | null, eraseOn: string | null, changed: boolean) =>
      [
        changed
          ? 'You asked us to erase your data. Since our last message, the last day of your contracts with us has changed.'
          : 'You asked us to erase your data. You have a contract with us that still runs; while it runs, we need your data to carry it out and bill it (GDPR Art. 6(1)(b)).',
        lastDay && eraseOn
          ? `We erase your data on the day after your contract's last day (${lastDay}), that is on ${eraseOn}. You do not need to ask again.`
          : 'Your contract has no end date. We erase your data on the day after its last day, once it is terminated (in writing, by e-mail or by phone). You do not need to ask again.',
        'If you make a new contract with us before that day, we also wait for its end and tell you the new date. What the law obliges us to keep, such as your invoices, is kept; after the erasure you get a letter saying what was erased and what is still kept.',
      ].join(' '),
    regards: 'Kind regards,',
  },
} as const;

/** What an objection or withdrawal stopped, and what it could not stop and why. */
function pushStopped(body: string[], t: (typeof TEXT)[Language], facts: LetterFacts): void {
  if (facts.stopped && facts.stopped.length > 0)
    body.push('', t.stopped, ...facts.stopped.map((what) => `- ${what}`));
  if (facts.notStopped && facts.notStopped.length > 0)
    body.push('', t.notStopped, ...facts.notStopped.map((item) => `- ${item.what}: ${item.why}`));
}

/** The reason of an objection or withdrawal that stopped nothing (the list follows it). */
export const nothingStoppedReason = (lang: Language): string => TEXT[lang].nothingStopped;

/** An answer letter in the person's language, naming the supervisory authority (VK-28). */
export function writeLetter(
  policy: Policy,
  lang: Language,
  given: LetterFacts,
): { subject: string; text: string } {
  // Every value on its own line; the reason staff wrote may span lines.
  const facts = inlineFacts(given, ['reason']);
  const t = TEXT[lang];
  // Facts carry ISO days; the person reads them in words of their language.
  const day = (value: string): string => longDate(value, lang);
  const kind = KIND_LABEL[lang][facts.kind];
  const controller = `${policy.controller.legalName} ${policy.controller.legalForm}`;
  const authority = policy.supervisoryAuthority;
  const body: string[] = [t.greeting, ''];
  switch (facts.outcome) {
    case 'verification_code':
      body.push(t.code(facts.code ?? '', facts.link ?? ''));
      break;
    case 'received':
      body.push(t.received(day(facts.receivedOn), day(facts.dueOn)));
      break;
    case 'extended':
      body.push(t.extended(day(facts.dueOn), facts.reason ?? ''));
      break;
    case 'download_ready':
      body.push(t.download(facts.link ?? ''));
      break;
    case 'data_enclosed':
      body.push(t.enclosed(facts.kind === 'portability'));
      break;
    case 'transfer_sent':
      body.push(t.transferSent(facts.transferHost ?? ''));
      break;
    case 'transfer_failed':
      // The fallback: the same single-use link as without a transfer.
      body.push(t.transferFailed(facts.transferHost ?? ''), '', t.download(facts.link ?? ''));
      break;
    case 'login_link':
      body.push(t.login(facts.link ?? ''));
      break;
    case 'restriction_lift':
      body.push(
        t.restrictionLift(
          day(facts.receivedOn),
          day(facts.liftOn ?? ''),
          facts.liftGround ? LIFT_GROUND[lang][facts.liftGround] : '',
        ),
      );
      break;
    case 'rejected':
      body.push(t.rejected(facts.reason ?? ''));
      pushStopped(body, t, facts);
      break;
    case 'erasure_deferred': {
      const lastDay = facts.deferred?.lastDay ?? null;
      body.push(
        t.deferred(
          lastDay ? day(lastDay) : null,
          lastDay ? day(dayAfter(lastDay)) : null,
          facts.deferred?.changed === true,
        ),
      );
      break;
    }
    case 'fulfilled':
      body.push(t.fulfilled);
      if (facts.erased && facts.erased.length > 0)
        body.push('', t.erased, ...facts.erased.map((line) => `- ${line}`), '', t.backups);
      if (facts.kept && facts.kept.length > 0)
        body.push(
          '',
          t.kept,
          ...facts.kept.map((item) => `- ${t.keptItem(item.what, item.why, day(item.until))}`),
        );
      pushStopped(body, t, facts);
      break;
  }
  if (facts.outcome !== 'verification_code' && facts.outcome !== 'login_link') {
    body.push(
      '',
      t.complaint(
        `${authority.name[lang]}, ${authority.address.street}, ${authority.address.postalCode} ${authority.address.city} (${authority.website}, ${authority.email})`,
      ),
    );
  }
  body.push('', t.regards, controller, policy.controller.privacyContact.email);
  // A login link answers no request: its subject says what it is (attack S11, noticed).
  const subject = facts.outcome === 'login_link' ? t.loginSubject : t.subject(kind);
  return { subject: `${subject} — ${controller}`, text: body.join('\n') };
}

/** The calendar day after an ISO day (the day a deferred erasure runs); anything else as given. */
export function dayAfter(day: string): string {
  if (!isIsoDay(day)) return day;
  const next = new Date(`${day}T00:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return next.toISOString().slice(0, 10);
}

/** Why an objection or withdrawal does not stop a purpose: its legal basis, or it does not concern the person. */
export type NotStoppedReason = LegalBasis | 'not_processed';

const BASIS_REASON: Record<Language, Record<NotStoppedReason, string>> = {
  nl: {
    contract: 'nodig om de overeenkomst met u uit te voeren (art. 6.1.b AVG)',
    legal_obligation: 'wettelijk verplicht (art. 6.1.c AVG)',
    vital_interests: 'nodig om iemands vitale belangen te beschermen (art. 6.1.d AVG)',
    public_task: 'een taak van algemeen belang (art. 6.1.e AVG)',
    legitimate_interests: 'berust op ons gerechtvaardigd belang (art. 6.1.f AVG), niet op uw toestemming',
    consent: 'berust op uw toestemming (art. 6.1.a AVG)',
    not_processed: 'voor dit doel verwerken wij geen gegevens van u',
  },
  fr: {
    contract: 'nécessaire à l’exécution du contrat conclu avec vous (art. 6.1.b RGPD)',
    legal_obligation: 'imposé par la loi (art. 6.1.c RGPD)',
    vital_interests: 'nécessaire à la sauvegarde des intérêts vitaux d’une personne (art. 6.1.d RGPD)',
    public_task: 'une mission d’intérêt public (art. 6.1.e RGPD)',
    legitimate_interests: 'fondé sur notre intérêt légitime (art. 6.1.f RGPD), non sur votre consentement',
    consent: 'fondé sur votre consentement (art. 6.1.a RGPD)',
    not_processed: 'nous ne traitons aucune donnée vous concernant pour cette finalité',
  },
  en: {
    contract: 'needed to perform the contract with you (Art. 6(1)(b) GDPR)',
    legal_obligation: 'required by law (Art. 6(1)(c) GDPR)',
    vital_interests: 'needed to protect someone’s vital interests (Art. 6(1)(d) GDPR)',
    public_task: 'a task in the public interest (Art. 6(1)(e) GDPR)',
    legitimate_interests: 'based on our legitimate interests (Art. 6(1)(f) GDPR), not on your consent',
    consent: 'based on your consent (Art. 6(1)(a) GDPR)',
    not_processed: 'we do not process any data of yours for this purpose',
  },
};

const NO_RIGHT: Record<
  Language,
  { objection: string; withdraw_consent: string; objectConsent: string; withdrawInterest: string }
> = {
  nl: {
    objection: 'daartegen geldt geen recht van bezwaar (art. 21.1 AVG)',
    withdraw_consent: 'er is dus geen toestemming om in te trekken',
    objectConsent:
      'u stopt ze door uw toestemming in te trekken (een verzoek "intrekking van uw toestemming")',
    withdrawInterest: 'u stopt ze met een bezwaar (een verzoek "bezwaar tegen de verwerking")',
  },
  fr: {
    objection: 'le droit d’opposition ne s’y applique pas (art. 21.1 RGPD)',
    withdraw_consent: 'il n’y a donc pas de consentement à retirer',
    objectConsent:
      'vous l’arrêtez en retirant votre consentement (une demande « retrait de votre consentement »)',
    withdrawInterest: 'vous l’arrêtez par une opposition (une demande « opposition au traitement »)',
  },
  en: {
    objection: 'the right to object does not apply to it (Art. 21(1) GDPR)',
    withdraw_consent: 'so there is no consent to withdraw',
    objectConsent: 'you stop it by withdrawing your consent (a "withdrawal of your consent" request)',
    withdrawInterest: 'you stop it by objecting (an "objection to processing" request)',
  },
};

/** Why an objection or a withdrawal did not stop a purpose, in the person's language. */
export function whyNotStopped(
  lang: Language,
  kind: 'objection' | 'withdraw_consent',
  reason: NotStoppedReason,
): string {
  const basis = BASIS_REASON[lang][reason];
  if (reason === 'not_processed') return basis;
  const rights = NO_RIGHT[lang];
  if (kind === 'objection' && reason === 'consent') return `${basis}; ${rights.objectConsent}`;
  if (kind === 'withdraw_consent' && reason === 'legitimate_interests')
    return `${basis}; ${rights.withdrawInterest}`;
  return `${basis}; ${rights[kind]}`;
}

/** Where a letter staff print goes: the person's name and postal address on file. */
export interface PostalRecipient {
  name: string;
  address: { street: string; postalCode: string; city: string; country: string };
}

const POSTAL_LABELS: Record<Language, { date: string; reference: string; about: string }> = {
  nl: { date: 'Datum:', reference: 'Ons kenmerk:', about: 'Betreft:' },
  fr: { date: 'Date :', reference: 'Notre référence :', about: 'Objet :' },
  en: { date: 'Date:', reference: 'Our reference:', about: 'Subject:' },
};

/**
 * The head of a letter staff print and post (decision 1192): the address block for a window
 * envelope, the date, the request's reference and what it is about, in the letter's language.
 */
export function writePostalHeading(
  lang: Language,
  to: PostalRecipient,
  facts: { date: string; reference: string; subject: string },
): string {
  const labels = POSTAL_LABELS[lang];
  return [
    to.name,
    to.address.street,
    `${to.address.postalCode} ${to.address.city}`,
    countryName(lang, to.address.country),
    '',
    `${labels.date} ${longDate(facts.date, lang)}`,
    `${labels.reference} ${facts.reference}`,
    `${labels.about} ${facts.subject}`,
  ]
    .map((line) => line.replace(/[\r\n]+/g, ' '))
    .join('\n');
}

/** "BE" → "België" / "Belgique" / "Belgium"; the code itself where no name is known. */
function countryName(lang: Language, code: string): string {
  try {
    return new Intl.DisplayNames([lang], { type: 'region' }).of(code) ?? code;
  } catch {
    return code;
  }
}

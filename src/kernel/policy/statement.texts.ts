/**
 * The wording of the generated privacy statement, one template per language. Only wording lives
 * here; every fact (names, periods, recipients, …) is passed in from the policy, so the statement
 * cannot promise what the policy does not say.
 */
import type {
  CATEGORY_GROUPS,
  CHANNEL_KINDS,
  COOKIE_CATEGORIES,
  Language,
  LegalBasis,
  RecipientKind,
  RetentionRule,
  Right,
  TRANSFER_SAFEGUARDS,
  VERIFICATION_METHODS,
} from './policy.schema.js';

type CategoryGroup = (typeof CATEGORY_GROUPS)[number];
type ChannelKind = (typeof CHANNEL_KINDS)[number];
type CookieCategory = (typeof COOKIE_CATEGORIES)[number];
type Safeguard = (typeof TRANSFER_SAFEGUARDS)[number];
type VerificationMethod = (typeof VERIFICATION_METHODS)[number];

export interface StatementTexts {
  title: (controller: string) => string;
  intro: (controller: string, subjects: string) => string;
  generated: string;
  headings: {
    controller: string;
    data: string;
    purposes: string;
    newsletter: string;
    security: string;
    retention: string;
    sharing: string;
    cookies: string;
    minors: string;
    rights: string;
    complaints: string;
    changes: string;
  };
  fields: {
    name: string;
    address: string;
    enterpriseNumber: string;
    phone: string;
    email: string;
    website: string;
    privacyContact: string;
  };
  categoryGroups: Record<CategoryGroup, string>;
  dataIntro: (controller: string) => string;
  source: (category: string, source: string) => string;
  legalBases: Record<LegalBasis, string>;
  legalBasesUsed: (list: string) => string;
  purposesIntro: string;
  purpose: {
    basis: string;
    data: string;
    retention: string;
    withdraw: (channels: string) => string;
    objectMarketing: string;
    objectLegitimate: string;
  };
  newsletter: {
    legitimate: (subjects: string) => string;
    optIn: (subjects: string, doubleOptIn: boolean) => string;
    noOptIn: string;
    unsubscribe: string;
    tracking: string;
  };
  security: {
    intro: (controller: string) => string;
    environment: string;
    roles: (roles: string) => string;
    misuse: (channels: string) => string;
    /** Said only when the incident register keeps it (promise incident_register). */
    incidents: string;
  };
  retention: {
    intro: string;
    rule: (rule: RetentionRule) => string;
    appliesTo: (purposes: string) => string;
    returnOnRequest: string;
    hold: (label: string, reference: string, categories: string, period: string) => string;
  };
  sharing: {
    intro: string;
    /** Said only where a module logs and limits every disclosure (promise `disclosure_log`). */
    logged: string;
    kinds: Record<RecipientKind, string>;
    region: { EU: string; EEA: string };
    data: string;
    agreement: string;
    safeguard: string;
    safeguards: Record<Safeguard, string>;
    none: string;
    measures: string;
    confidentiality: string;
    noTransfers: (region: 'EU' | 'EEA') => string;
    safeguardedTransfers: string;
  };
  cookies: {
    used: (categories: string) => string;
    what: string;
    consent: string;
    withdraw: string;
    /** Kept by the cookies module (promise cookie_choices_at_login, docs/decisions/0290). */
    linked: string;
    /** How long the record of a choice is kept as proof (the cookies module's purge, decision 0140). */
    proof: (choiceLifetime: string, months: number) => string;
    categories: Record<CookieCategory, string>;
    lifetime: (iso: string) => string;
    item: (name: string, category: string, provider: string, lifetime: string, purpose: string) => string;
    external: (url: string) => string;
    none: string;
  };
  minors: {
    rule: (age: number) => string;
    parents: string;
    report: (channel: string) => string;
  };
  sensitive: { none: string; withConsent: string; examples: string };
  rights: {
    intro: string;
    /** `restriction`: the plain promise, for a policy whose purposes all stop on a restriction. */
    items: Record<Right, string>;
    /** The restriction with the uses it leaves (the purposes marked `readWhileRestricted`). */
    restrictionExcept: (purposes: string) => string;
    /** What a running contract keeps from erasure, and the erasure deferred to its end (decisions 0940, 1210). */
    whileContract: string;
    selfService: string;
    toOtherOrganisation: string;
    highlighted: (categories: string) => string;
    how: (channels: string) => string;
    verification: string;
    methods: Record<VerificationMethod, string>;
    deadline: (days: number) => string;
    free: string;
  };
  complaints: {
    first: (contact: string) => string;
    authority: string;
  };
  changes: {
    mayChange: string;
    latestAt: (url: string) => string;
    version: (version: string, date: string) => string;
    replaces: (date: string) => string;
  };
  channels: Record<ChannelKind, (address: string | undefined) => string>;
}

const periodParts = (iso: string): { n: number; unit: 'Y' | 'M' | 'D' } | undefined => {
  const match = /^P(\d+)([YMD])$/.exec(iso);
  if (match === null) return undefined;
  return { n: Number(match[1]), unit: match[2] as 'Y' | 'M' | 'D' };
};

const nl: StatementTexts = {
  title: (c) => `Privacyverklaring van ${c}`,
  intro: (c, s) =>
    `${c} verwerkt persoonsgegevens van ${s}. In deze verklaring leest u welke gegevens wij verwerken, waarom en op welke rechtsgrond, hoe wij ze beveiligen, hoe lang wij ze bewaren, met wie wij ze delen en welke rechten u hebt.`,
  generated:
    'Deze verklaring wordt opgemaakt uit hetzelfde privacybeleid dat onze software afdwingt: wat hier staat, is wat onze systemen doen.',
  headings: {
    controller: 'Wie is verantwoordelijk voor uw gegevens?',
    data: 'Welke persoonsgegevens verwerken wij?',
    purposes: 'Waarvoor en op welke rechtsgrond verwerken wij uw gegevens?',
    newsletter: 'Nieuwsbrief en andere berichten',
    security: 'Hoe beveiligen wij uw gegevens?',
    retention: 'Hoe lang bewaren wij uw gegevens?',
    sharing: 'Met wie delen wij uw gegevens?',
    cookies: 'Cookies en vergelijkbare technieken',
    minors: 'Minderjarigen en gevoelige gegevens',
    rights: 'Uw rechten en hoe u ze uitoefent',
    complaints: 'Klachten',
    changes: 'Wijzigingen en versie',
  },
  fields: {
    name: 'Naam',
    address: 'Adres',
    enterpriseNumber: 'Ondernemingsnummer',
    phone: 'Telefoon',
    email: 'E-mail',
    website: 'Website',
    privacyContact: 'Vragen over privacy',
  },
  categoryGroups: {
    identification: 'Identificatiegegevens',
    contact: 'Contactgegevens',
    professional: 'Professionele gegevens',
    financial: 'Financiële gegevens',
    contract: 'Contractgegevens',
    technical: 'Technische gegevens',
    online: 'Gegevens over uw bezoek aan onze website',
    telephony: 'Telefoniegegevens',
    marketing: 'Marketinggegevens',
    recruitment: 'Sollicitatiegegevens',
  },
  dataIntro: (c) =>
    `${c} verwerkt gegevens die u zelf aan ons geeft, die ontstaan wanneer u onze diensten gebruikt of onze website bezoekt, en in enkele gevallen gegevens van anderen. Wij verwerken alleen de volgende gegevens:`,
  source: (category, source) => `Wij krijgen ${category} van ${source}.`,
  legalBases: {
    consent: 'uw toestemming',
    contract: 'de uitvoering van een overeenkomst met u (of stappen op uw verzoek vóór een overeenkomst)',
    legal_obligation: 'een wettelijke verplichting',
    vital_interests: 'de bescherming van uw vitale belangen',
    public_task: 'een taak van algemeen belang',
    legitimate_interests: 'ons gerechtvaardigd belang',
  },
  legalBasesUsed: (list) => `Wij verwerken persoonsgegevens op basis van ${list}.`,
  purposesIntro: 'Wij gebruiken uw gegevens alleen voor de volgende doeleinden:',
  purpose: {
    basis: 'Rechtsgrond',
    data: 'Gegevens',
    retention: 'Bewaring',
    withdraw: (ch) => `U kunt uw toestemming altijd intrekken via ${ch}.`,
    objectMarketing: 'U kunt zich hier altijd kosteloos tegen verzetten.',
    objectLegitimate: 'U kunt hiertegen bezwaar maken.',
  },
  newsletter: {
    legitimate: (s) =>
      `Aan ${s} kunnen wij een nieuwsbrief en andere commerciële of niet-commerciële berichten sturen op basis van ons gerechtvaardigd belang; u kunt zich altijd afmelden (opt-out).`,
    optIn: (s, double) =>
      `${s} worden niet als klant beschouwd: zij ontvangen onze berichten pas nadat zij zich daarvoor zelf hebben aangemeld (opt-in)${double ? ' en die aanmelding via een bevestigingsmail hebben bevestigd' : ''}.`,
    noOptIn: 'Wie geen klant is, ontvangt deze berichten niet.',
    unsubscribe: 'Elke mailing bevat een link waarmee u zich zonder inloggen meteen kunt afmelden.',
    tracking:
      'Onze e-mails kunnen meten of u ze opent en op welke links u klikt, maar alleen als u daarvoor toestemming gaf; zonder uw toestemming bevatten ze geen meetpixel en gewone links.',
  },
  security: {
    intro: (c) =>
      `${c} neemt de bescherming van uw gegevens ernstig en neemt technische en organisatorische maatregelen tegen misbruik, verlies, onbevoegde toegang, ongewenste openbaarmaking en ongeoorloofde wijziging.`,
    environment:
      'Uw gegevens worden bewaard in een beveiligde omgeving die niet toegankelijk is voor het publiek. Alleen het beperkt aantal medewerkers dat ze voor de uitoefening van hun functie nodig heeft, kan ze raadplegen: elke rol ziet alleen de gegevens van de doeleinden waarvoor die rol werkt, en elke raadpleging wordt vastgelegd.',
    roles: (r) => `Rollen met toegang: ${r}.`,
    misuse: (ch) =>
      `Hebt u de indruk dat uw gegevens niet goed beveiligd zijn, of zijn er aanwijzingen van misbruik? Meld het via ${ch}.`,
    incidents:
      'Elke melding komt in ons incidentenregister. Een inbreuk in verband met persoonsgegevens melden we binnen 72 uur nadat we er kennis van kregen aan de toezichthouder, en loopt u er een hoog risico door, dan brengen we u op de hoogte.',
  },
  retention: {
    intro:
      'Wij bewaren persoonsgegevens niet langer dan nodig voor het doel waarvoor wij ze verzamelden, of dan de wet ons verplicht. Daarna worden ze gewist. Gegevens die voor meerdere doeleinden dienen, bewaren wij zo lang als het langste daarvan vereist.',
    rule: (r) => {
      switch (r.kind) {
        case 'contract_duration':
          return 'zolang de overeenkomst loopt';
        case 'after_contract_end':
          return `zolang de overeenkomst loopt en daarna nog ${r.years} jaar`;
        case 'inactivity':
          return `tot uiterlijk ${r.years} jaar zonder activiteit; daarna verwijderen wij ze uit ons bestand`;
        case 'on_termination':
          return r.writtenNotice
            ? 'zolang de samenwerking loopt; zodra u ons schriftelijk laat weten dat u de samenwerking stopzet, verwijderen wij ze met onmiddellijke ingang en onherroepelijk'
            : 'zolang de samenwerking loopt; bij het einde ervan verwijderen wij ze met onmiddellijke ingang en onherroepelijk';
        case 'until_bill_uncontestable':
          return `tot de factuur die ze aanrekent niet meer betwist kan worden: ${r.months} maanden na haar vervaldag (langer zolang ze betwist wordt); nooit voordat ze gefactureerd zijn`;
        case 'accounting':
          return `${r.years} jaar, te rekenen vanaf 1 januari na de datum van het document`;
        case 'after_collection':
          return `${r.months} maanden nadat wij voor het laatst gegevens van u ontvingen`;
        case 'until_withdrawn':
          return r.maxYears === undefined
            ? 'tot u uw toestemming intrekt of bezwaar maakt'
            : `tot u uw toestemming intrekt of bezwaar maakt, en hoogstens ${r.maxYears} jaar na ons laatste contact met u`;
        case 'inherited':
          return 'wij bewaren hiervoor geen eigen kopie';
      }
    },
    appliesTo: (p) => `geldt voor: ${p}`,
    returnOnRequest:
      'Vraagt u ons vóór het einde van deze termijn uw gegevens op (inzage of overdraagbaarheid), dan wissen wij er niets van voordat wij ze u hebben bezorgd, binnen de termijn waarin wij uw verzoek beantwoorden; wat daarna overblijft, wordt zorgvuldig en veilig vernietigd.',
    hold: (label, ref, cats, period) =>
      `Wettelijke bewaarplicht – ${label} (${ref}): ${cats} bewaren wij ${period}, ook als u vraagt ze te wissen. Na die termijn worden ze gewist.`,
  },
  sharing: {
    intro: 'Wij geven uw persoonsgegevens alleen door aan de ontvangers hieronder.',
    logged:
      'Elke ontvanger krijgt alleen de gegevens die voor zijn taak nodig zijn, en elke doorgifte wordt vastgelegd.',
    kinds: {
      processor: 'verwerker',
      third_party: 'derde',
      group_company: 'verbonden vennootschap',
      authority: 'overheid',
    },
    region: { EU: 'binnen de Europese Unie', EEA: 'binnen de Europese Economische Ruimte' },
    data: 'gegevens',
    agreement: 'onder een verwerkersovereenkomst; mag de gegevens alleen volgens onze instructies gebruiken',
    safeguard: 'waarborg voor de doorgifte',
    safeguards: {
      adequacy_decision: 'adequaatheidsbesluit van de Europese Commissie',
      standard_contractual_clauses: 'standaardcontractbepalingen van de Europese Commissie',
      binding_corporate_rules: 'bindende bedrijfsvoorschriften',
      explicit_consent: 'uw uitdrukkelijke toestemming',
    },
    none: 'Wij geven geen persoonsgegevens door aan derden.',
    measures:
      'Wij eisen van alle ontvangers dat zij passende technische en organisatorische maatregelen nemen om uw gegevens te beschermen.',
    confidentiality:
      'Binnen ons bedrijf zijn onze medewerkers verplicht de vertrouwelijkheid van uw gegevens te respecteren.',
    noTransfers: (region) =>
      region === 'EU'
        ? 'Wij verstrekken geen persoonsgegevens aan partijen die buiten de Europese Unie (EU) gevestigd zijn.'
        : 'Wij verstrekken geen persoonsgegevens aan partijen die buiten de Europese Economische Ruimte (EER) gevestigd zijn.',
    safeguardedTransfers:
      'Een ontvanger buiten de Europese Economische Ruimte krijgt alleen gegevens met de waarborg die hierboven bij die ontvanger staat.',
  },
  cookies: {
    used: (cats) => `Onze website gebruikt ${cats} cookies.`,
    what: 'Een cookie is een klein tekstbestand dat bij uw bezoek aan onze website in de browser van uw computer, tablet of smartphone wordt opgeslagen.',
    consent:
      'Functionele cookies zijn nodig om de website naar behoren te laten werken en uw voorkeuren te onthouden. Andere cookies plaatsen wij alleen met uw toestemming, die wij bij uw eerste bezoek vragen.',
    withdraw:
      'U kunt uw toestemming altijd intrekken via de cookie-instellingen op onze website. U kunt cookies ook weigeren of eerder opgeslagen cookies verwijderen via de instellingen van uw browser.',
    linked:
      'Uw cookiekeuze is aan niemand gekoppeld, tenzij u zich aanmeldt op ons privacyportaal in een browser die ze bewaart: dan koppelen we ze aan u, zodat ze in het overzicht van uw gegevens staat, en wissen we die koppeling samen met uw gegevens.',
    proof: (choice, months) =>
      `Als bewijs van uw toestemming bewaren wij van elke cookiekeuze welke categorieën u koos, wanneer, in welke taal en bij welke versie van deze cookielijst. Een keuze geldt ${choice}; ${months > 0 ? `daarna bewaren wij dat bewijs nog ${months} ${months === 1 ? 'maand' : 'maanden'}, zo lang als wij gegevens bewaren die met die toestemming werden verzameld, en dan wissen wij het.` : 'daarna wissen wij dat bewijs.'}`,
    categories: { functional: 'functionele', analytical: 'analytische', tracking: 'tracking' },
    lifetime: (iso) => {
      const p = periodParts(iso);
      if (p === undefined) return 'tot u de browser sluit';
      const unit = { Y: 'jaar', M: p.n === 1 ? 'maand' : 'maanden', D: p.n === 1 ? 'dag' : 'dagen' }[p.unit];
      return `${p.n} ${unit}`;
    },
    item: (name, cat, provider, lifetime, purpose) =>
      `${name} (${cat} cookie van ${provider}, bewaard ${lifetime}): ${purpose}`,
    external: (url) =>
      `Voor de technische gegevens en cookies die via onze website worden bijgehouden, verwijzen wij naar het privacybeleid van ons hostingplatform: ${url}`,
    none: 'Onze website plaatst geen cookies.',
  },
  minors: {
    rule: (age) =>
      `Wij hebben niet de intentie gegevens te verzamelen van personen jonger dan ${age} jaar, tenzij een ouder of voogd daarvoor toestemming gaf.`,
    parents:
      'Wij kunnen niet altijd controleren hoe oud iemand is. Wij raden ouders daarom aan betrokken te zijn bij de online activiteiten van hun kinderen.',
    report: (ch) =>
      `Denkt u dat wij zonder die toestemming gegevens van een minderjarige hebben verzameld? Meld het via ${ch}; dan verwijderen wij die gegevens.`,
  },
  sensitive: {
    none: 'Wij verzamelen en verwerken geen gevoelige persoonsgegevens.',
    withConsent:
      'Mochten wij zulke gegevens ooit nodig hebben, dan vragen wij eerst uw uitdrukkelijke toestemming.',
    examples:
      'Gevoelige gegevens zijn onder meer identiteitsnummers zoals het rijksregisternummer, gegevens over ras of etnische afkomst, politieke opvattingen, religieuze of levensbeschouwelijke overtuigingen, vakbondslidmaatschap, fysieke of mentale gezondheid, biometrische of genetische gegevens, seksueel gedrag of geaardheid en strafrechtelijke gegevens.',
  },
  rights: {
    intro: 'U hebt de volgende rechten over uw persoonsgegevens:',
    items: {
      access:
        'Recht op inzage: u kunt opvragen welke gegevens wij over u hebben, waarvoor en op welke rechtsgrond, aan wie wij ze gaven, hoe lang wij ze bewaren en waar ze vandaan komen. Wat wij aan een gerecht of de politie gaven terwijl die ons verbieden het u te zeggen, vertellen wij u zodra dat verbod afloopt.',
      rectification: 'Recht op verbetering: u kunt onjuiste of onvolledige gegevens laten corrigeren.',
      erasure:
        'Recht op wissing: u kunt op elk moment vragen dat wij uw gegevens verwijderen. Wat wij wettelijk moeten bewaren, leggen wij u uit: wat, waarom en tot wanneer.',
      restriction:
        'Recht op beperking: u kunt vragen dat wij uw gegevens tijdelijk alleen nog bewaren en niet meer gebruiken.',
      objection:
        'Recht van bezwaar: u kunt bezwaar maken tegen een verwerking op basis van ons gerechtvaardigd belang.',
      portability:
        'Recht op overdraagbaarheid: u kunt uw gegevens krijgen in een gestructureerde, gangbare en machineleesbare vorm (een computerbestand).',
      withdraw_consent:
        'Toestemming intrekken: wat wij op basis van uw toestemming doen, stopt zodra u uw toestemming intrekt.',
      object_direct_marketing:
        'Verzet tegen direct marketing: u kunt zich altijd kosteloos verzetten tegen het gebruik van uw gegevens voor direct marketing; dat gebruik stopt dan onmiddellijk.',
    },
    restrictionExcept: (uses) =>
      `Recht op beperking: u kunt vragen dat wij uw gegevens tijdelijk alleen nog bewaren en niet meer gebruiken, behalve voor: ${uses}.`,
    whileContract:
      'Zolang een contract met u loopt, hebben wij uw gegevens nodig om het uit te voeren en te factureren. Vraagt u in die tijd de wissing, dan antwoorden wij binnen de maand met de datum en wissen wij ze de dag na de laatste dag van uw contracten bij ons, zonder dat u het opnieuw moet vragen; sluit u voor die dag een nieuw contract, dan schuift de datum op naar het einde daarvan en laten wij u dat weten.',
    selfService:
      'Uw gegevens laten verwijderen kan ook zelf, via de persoonlijke instellingen van uw account.',
    toOtherOrganisation:
      'Op uw verzoek sturen wij dat bestand naar u of naar een andere organisatie die u aanwijst.',
    highlighted: (cats) => `Deze rechten gelden ook voor ${cats}.`,
    how: (ch) => `U oefent uw rechten uit via ${ch}.`,
    verification: 'Wij kunnen u vragen uw identiteit aan te tonen voor wij op uw verzoek ingaan:',
    methods: {
      code_to_contact_on_file:
        'met een code die wij sturen naar de contactgegevens die wij al van u hebben (nooit naar nieuwe gegevens)',
      staff_check: 'doordat een medewerker uw identiteit controleert',
    },
    deadline: (d) =>
      `Wij geven gevolg aan uw verzoek binnen ${d} dagen na ontvangst. Is een verzoek ingewikkeld of krijgen wij er veel, dan kunnen wij die termijn één keer met ten hoogste twee maanden verlengen; dat laten wij u binnen die ${d} dagen weten, met de reden.`,
    free: 'Het uitoefenen van uw rechten is kosteloos.',
  },
  complaints: {
    first: (contact) =>
      `Hebt u een klacht over de verwerking van uw persoonsgegevens, neem dan eerst rechtstreeks contact met ons op via ${contact}.`,
    authority: 'U hebt altijd het recht een klacht in te dienen bij de toezichthoudende autoriteit:',
  },
  changes: {
    mayChange:
      'Wij kunnen deze privacyverklaring wijzigen. Wijzigingen publiceren wij op dezelfde plaats; raadpleeg deze verklaring daarom regelmatig.',
    latestAt: (url) => `De meest recente versie vindt u steeds op ${url}.`,
    version: (v, d) => `Versie ${v}, van kracht sinds ${d}.`,
    replaces: (d) => `Deze versie vervangt de privacyverklaring van ${d}.`,
  },
  channels: {
    email: (a) => (a === undefined ? 'e-mail' : `e-mail naar ${a}`),
    post: (a) => (a === undefined ? 'een brief' : `een brief aan ${a}`),
    account_settings: () => 'de persoonlijke instellingen van uw account',
    customer_service: () => 'onze klantenservice',
    unsubscribe_link: () => 'de afmeldlink in elke mailing',
    cookie_banner: () => 'de cookie-instellingen op onze website',
    browser_settings: () => 'de instellingen van uw browser',
  },
};

const fr: StatementTexts = {
  title: (c) => `Déclaration de confidentialité de ${c}`,
  intro: (c, s) =>
    `${c} traite des données à caractère personnel de ${s}. Cette déclaration explique quelles données nous traitons, pourquoi et sur quelle base juridique, comment nous les protégeons, combien de temps nous les conservons, avec qui nous les partageons et quels sont vos droits.`,
  generated:
    'Cette déclaration est produite à partir de la politique de confidentialité que notre logiciel applique lui-même : ce qui est écrit ici est ce que font nos systèmes.',
  headings: {
    controller: 'Qui est responsable de vos données ?',
    data: 'Quelles données à caractère personnel traitons-nous ?',
    purposes: 'Pourquoi et sur quelle base juridique traitons-nous vos données ?',
    newsletter: "Lettre d'information et autres messages",
    security: 'Comment protégeons-nous vos données ?',
    retention: 'Combien de temps conservons-nous vos données ?',
    sharing: 'Avec qui partageons-nous vos données ?',
    cookies: 'Cookies et techniques similaires',
    minors: 'Mineurs et données sensibles',
    rights: 'Vos droits et comment les exercer',
    complaints: 'Plaintes',
    changes: 'Modifications et version',
  },
  fields: {
    name: 'Nom',
    address: 'Adresse',
    enterpriseNumber: "Numéro d'entreprise",
    phone: 'Téléphone',
    email: 'E-mail',
    website: 'Site web',
    privacyContact: 'Questions sur la vie privée',
  },
  categoryGroups: {
    identification: "Données d'identification",
    contact: 'Coordonnées',
    professional: 'Données professionnelles',
    financial: 'Données financières',
    contract: 'Données contractuelles',
    technical: 'Données techniques',
    online: 'Données sur votre visite de notre site web',
    telephony: 'Données de téléphonie',
    marketing: 'Données de marketing',
    recruitment: 'Données de candidature',
  },
  dataIntro: (c) =>
    `${c} traite les données que vous nous fournissez, celles qui naissent lorsque vous utilisez nos services ou visitez notre site et, dans certains cas, des données reçues de tiers. Nous ne traitons que les données suivantes :`,
  source: (category, source) => `Source des données « ${category} » : ${source}.`,
  legalBases: {
    consent: 'votre consentement',
    contract: "l'exécution d'un contrat avec vous (ou de mesures prises à votre demande avant un contrat)",
    legal_obligation: 'une obligation légale',
    vital_interests: 'la protection de vos intérêts vitaux',
    public_task: "une mission d'intérêt public",
    legitimate_interests: 'notre intérêt légitime',
  },
  // « de une » is elided to « d'une » (une obligation légale).
  legalBasesUsed: (list) =>
    `Nous traitons des données à caractère personnel sur la base ${list.startsWith('une ') ? `d'${list}` : `de ${list}`}.`,
  purposesIntro: 'Nous utilisons vos données uniquement pour les finalités suivantes :',
  purpose: {
    basis: 'Base juridique',
    data: 'Données',
    retention: 'Conservation',
    withdraw: (ch) => `Vous pouvez retirer votre consentement à tout moment via ${ch}.`,
    objectMarketing: 'Vous pouvez toujours vous y opposer gratuitement.',
    objectLegitimate: 'Vous pouvez vous y opposer.',
  },
  newsletter: {
    legitimate: (s) =>
      `Nous pouvons envoyer aux ${s} une lettre d'information et d'autres messages commerciaux ou non commerciaux sur la base de notre intérêt légitime ; vous pouvez toujours vous désinscrire (opt-out).`,
    optIn: (s, double) =>
      `Les ${s} ne sont pas considérés comme des clients : ils ne reçoivent nos messages qu'après s'y être inscrits eux-mêmes (opt-in)${double ? ' et avoir confirmé cette inscription par un e-mail de confirmation' : ''}.`,
    noOptIn: 'Les personnes qui ne sont pas clientes ne reçoivent pas ces messages.',
    unsubscribe:
      'Chaque envoi contient un lien permettant de vous désinscrire immédiatement, sans vous connecter.',
    tracking:
      'Nos e-mails peuvent mesurer si vous les ouvrez et sur quels liens vous cliquez, mais uniquement si vous y avez consenti ; sans votre consentement, ils ne contiennent ni pixel de mesure ni liens suivis.',
  },
  security: {
    intro: (c) =>
      `${c} prend la protection de vos données au sérieux et prend des mesures techniques et organisationnelles contre l'abus, la perte, l'accès non autorisé, la divulgation non souhaitée et la modification illicite.`,
    environment:
      'Vos données sont conservées dans un environnement sécurisé, non accessible au public. Seul le nombre limité de collaborateurs qui en ont besoin pour exercer leur fonction peut les consulter : chaque rôle ne voit que les données des finalités pour lesquelles il travaille, et chaque consultation est enregistrée.',
    roles: (r) => `Rôles ayant accès : ${r}.`,
    misuse: (ch) =>
      `Vous avez l'impression que vos données ne sont pas bien protégées ou vous constatez des indices d'abus ? Signalez-le via ${ch}.`,
    incidents:
      "Chaque signalement est consigné dans notre registre des incidents. Nous notifions une violation de données à caractère personnel à l'autorité de contrôle dans les 72 heures après en avoir pris connaissance et, si elle vous expose à un risque élevé, nous vous en informons.",
  },
  retention: {
    intro:
      "Nous ne conservons pas les données à caractère personnel plus longtemps que nécessaire pour la finalité de leur collecte ou que la loi ne l'exige. Ensuite, elles sont effacées. Les données qui servent plusieurs finalités sont conservées aussi longtemps que la plus longue d'entre elles l'exige.",
    rule: (r) => {
      switch (r.kind) {
        case 'contract_duration':
          return 'pendant la durée du contrat';
        case 'after_contract_end':
          return `pendant la durée du contrat et ensuite encore ${r.years} ans`;
        case 'inactivity':
          return `jusqu'à ${r.years} ans d'inactivité au plus ; ensuite nous les supprimons de notre fichier`;
        case 'on_termination':
          return r.writtenNotice
            ? 'pendant la collaboration ; dès que vous nous informez par écrit que vous y mettez fin, nous les supprimons immédiatement et irrévocablement'
            : 'pendant la collaboration ; à sa fin, nous les supprimons immédiatement et irrévocablement';
        case 'until_bill_uncontestable':
          return `jusqu'à ce que la facture qui les porte ne puisse plus être contestée : ${r.months} mois après son échéance (plus longtemps tant qu'elle est contestée) ; jamais avant leur facturation`;
        case 'accounting':
          return `${r.years} ans, à compter du 1er janvier suivant la date du document`;
        case 'after_collection':
          return `${r.months} mois après la dernière réception de vos données`;
        case 'until_withdrawn':
          return r.maxYears === undefined
            ? "jusqu'au retrait de votre consentement ou à votre opposition"
            : `jusqu'au retrait de votre consentement ou à votre opposition, et au plus ${r.maxYears} ans après notre dernier contact avec vous`;
        case 'inherited':
          return "nous n'en conservons pas de copie propre";
      }
    },
    appliesTo: (p) => `s'applique à : ${p}`,
    returnOnRequest:
      "Si vous nous demandez vos données (accès ou portabilité) avant la fin de ce délai, nous n'en effaçons rien avant de vous les avoir remises, dans le délai de réponse à votre demande ; ce qui reste ensuite est détruit avec soin et en toute sécurité.",
    hold: (label, ref, cats, period) =>
      `Obligation légale de conservation – ${label} (${ref}) : nous conservons ${cats} ${period}, même si vous en demandez l'effacement. Ensuite, elles sont effacées.`,
  },
  sharing: {
    intro: "Nous ne transmettons vos données qu'aux destinataires ci-dessous.",
    logged:
      'Chaque destinataire ne reçoit que les données nécessaires à sa tâche, et chaque communication est enregistrée.',
    kinds: {
      processor: 'sous-traitant',
      third_party: 'tiers',
      group_company: 'société liée',
      authority: 'autorité publique',
    },
    region: { EU: "au sein de l'Union européenne", EEA: "au sein de l'Espace économique européen" },
    data: 'données',
    agreement: 'sous un contrat de sous-traitance ; ne peut utiliser les données que selon nos instructions',
    safeguard: 'garantie pour le transfert',
    safeguards: {
      adequacy_decision: "décision d'adéquation de la Commission européenne",
      standard_contractual_clauses: 'clauses contractuelles types de la Commission européenne',
      binding_corporate_rules: "règles d'entreprise contraignantes",
      explicit_consent: 'votre consentement explicite',
    },
    none: 'Nous ne transmettons aucune donnée à caractère personnel à des tiers.',
    measures:
      'Nous exigeons de tous les destinataires des mesures techniques et organisationnelles appropriées pour protéger vos données.',
    confidentiality:
      'Au sein de notre entreprise, nos collaborateurs sont tenus de respecter la confidentialité de vos données.',
    noTransfers: (region) =>
      region === 'EU'
        ? "Nous ne fournissons aucune donnée à caractère personnel à des parties établies en dehors de l'Union européenne (UE)."
        : "Nous ne fournissons aucune donnée à caractère personnel à des parties établies en dehors de l'Espace économique européen (EEE).",
    safeguardedTransfers:
      "Un destinataire en dehors de l'Espace économique européen ne reçoit des données qu'avec la garantie indiquée ci-dessus pour ce destinataire.",
  },
  cookies: {
    used: (cats) => `Notre site utilise des cookies ${cats}.`,
    what: 'Un cookie est un petit fichier texte enregistré lors de votre visite dans le navigateur de votre ordinateur, tablette ou smartphone.',
    consent:
      "Les cookies fonctionnels sont nécessaires au bon fonctionnement du site et à la mémorisation de vos préférences. Nous ne plaçons les autres cookies qu'avec votre consentement, que nous demandons lors de votre première visite.",
    withdraw:
      'Vous pouvez retirer votre consentement à tout moment via les paramètres de cookies de notre site. Vous pouvez aussi refuser les cookies ou supprimer ceux déjà enregistrés via les paramètres de votre navigateur.',
    linked:
      "Votre choix de cookies n'est lié à personne, sauf si vous vous connectez à notre portail de confidentialité dans un navigateur qui le conserve : nous le lions alors à vous, pour qu'il figure dans l'aperçu de vos données, et nous effaçons ce lien avec vos données.",
    proof: (choice, months) =>
      `Comme preuve de votre consentement, nous conservons de chaque choix de cookies les catégories choisies, le moment, la langue et la version de cette liste de cookies. Un choix vaut ${choice} ; ${months > 0 ? `nous en conservons ensuite la preuve encore ${months} mois, aussi longtemps que nous conservons des données collectées avec ce consentement, puis nous l'effaçons.` : 'nous en effaçons ensuite la preuve.'}`,
    categories: { functional: 'fonctionnels', analytical: 'analytiques', tracking: 'de suivi' },
    lifetime: (iso) => {
      const p = periodParts(iso);
      if (p === undefined) return "jusqu'à la fermeture du navigateur";
      const unit = { Y: p.n === 1 ? 'an' : 'ans', M: 'mois', D: p.n === 1 ? 'jour' : 'jours' }[p.unit];
      return `${p.n} ${unit}`;
    },
    item: (name, cat, provider, lifetime, purpose) =>
      // The category adjective is plural in `categories` ("fonctionnels"); one cookie takes the singular.
      `${name} (cookie ${cat.replace(/s$/, '')} de ${provider}, conservé ${lifetime}) : ${purpose}`,
    external: (url) =>
      `Pour les données techniques et les cookies enregistrés via notre site, nous renvoyons à la politique de confidentialité de notre plateforme d'hébergement : ${url}`,
    none: 'Notre site ne place pas de cookies.',
  },
  minors: {
    rule: (age) =>
      `Nous n'avons pas l'intention de collecter des données de personnes de moins de ${age} ans, sauf si un parent ou tuteur y a consenti.`,
    parents:
      "Nous ne pouvons pas toujours vérifier l'âge d'une personne. Nous conseillons donc aux parents de s'impliquer dans les activités en ligne de leurs enfants.",
    report: (ch) =>
      `Vous pensez que nous avons collecté sans ce consentement des données d'un mineur ? Signalez-le via ${ch} ; nous supprimerons ces données.`,
  },
  sensitive: {
    none: 'Nous ne collectons ni ne traitons de données à caractère personnel sensibles.',
    withConsent:
      "Si nous devions un jour avoir besoin de telles données, nous vous demanderions d'abord votre consentement explicite.",
    examples:
      "Sont notamment sensibles les numéros d'identification comme le numéro de registre national, les données révélant l'origine raciale ou ethnique, les opinions politiques, les convictions religieuses ou philosophiques, l'appartenance syndicale, la santé physique ou mentale, les données biométriques ou génétiques, la vie ou l'orientation sexuelle et les données pénales.",
  },
  rights: {
    intro: 'Vous disposez des droits suivants sur vos données à caractère personnel :',
    items: {
      access:
        "Droit d'accès : vous pouvez demander quelles données nous détenons sur vous, pourquoi et sur quelle base, à qui nous les avons communiquées, combien de temps nous les conservons et d'où elles proviennent. Ce que nous avons communiqué à la justice ou à la police pendant qu'elles nous interdisent de vous le dire, nous vous le disons dès que cette interdiction prend fin.",
      rectification:
        'Droit de rectification : vous pouvez faire corriger des données inexactes ou incomplètes.',
      erasure:
        "Droit à l'effacement : vous pouvez à tout moment demander que nous supprimions vos données. Ce que la loi nous oblige à conserver, nous vous l'expliquons : quoi, pourquoi et jusqu'à quand.",
      restriction:
        'Droit à la limitation : vous pouvez demander que nous ne fassions plus que conserver vos données, sans les utiliser.',
      objection:
        "Droit d'opposition : vous pouvez vous opposer à un traitement fondé sur notre intérêt légitime.",
      portability:
        'Droit à la portabilité : vous pouvez recevoir vos données dans un format structuré, couramment utilisé et lisible par machine (un fichier informatique).',
      withdraw_consent:
        'Retrait du consentement : ce que nous faisons sur la base de votre consentement cesse dès que vous le retirez.',
      object_direct_marketing:
        "Opposition au marketing direct : vous pouvez toujours vous opposer gratuitement à l'utilisation de vos données à des fins de marketing direct ; cette utilisation cesse alors immédiatement.",
    },
    restrictionExcept: (uses) =>
      `Droit à la limitation : vous pouvez demander que nous ne fassions plus que conserver vos données, sans les utiliser, sauf pour : ${uses}.`,
    whileContract:
      'Tant qu’un contrat avec vous court, nous avons besoin de vos données pour l’exécuter et le facturer. Si vous demandez l’effacement pendant ce temps, nous vous répondons dans le mois en indiquant la date et nous les effaçons le lendemain du dernier jour de vos contrats chez nous, sans que vous deviez le redemander ; si vous concluez un nouveau contrat avant ce jour, la date est reportée à sa fin et nous vous en informons.',
    selfService:
      'Vous pouvez aussi supprimer vos données vous-même, via les paramètres personnels de votre compte.',
    toOtherOrganisation:
      'À votre demande, nous envoyons ce fichier à vous-même ou à une autre organisation que vous désignez.',
    highlighted: (cats) => `Ces droits s'appliquent aussi à ${cats}.`,
    how: (ch) => `Vous exercez vos droits via ${ch}.`,
    verification:
      'Nous pouvons vous demander de prouver votre identité avant de donner suite à votre demande :',
    methods: {
      code_to_contact_on_file:
        'par un code envoyé aux coordonnées que nous avons déjà de vous (jamais à de nouvelles coordonnées)',
      staff_check: 'par un contrôle de votre identité par un collaborateur',
    },
    deadline: (d) =>
      `Nous donnons suite à votre demande dans les ${d} jours de sa réception. Si une demande est complexe ou si nous en recevons beaucoup, nous pouvons prolonger ce délai une seule fois de deux mois au plus ; nous vous le disons, avec la raison, dans ces ${d} jours.`,
    free: "L'exercice de vos droits est gratuit.",
  },
  complaints: {
    first: (contact) =>
      `Si vous avez une plainte concernant le traitement de vos données, contactez-nous d'abord directement via ${contact}.`,
    authority: "Vous avez toujours le droit d'introduire une plainte auprès de l'autorité de contrôle :",
  },
  changes: {
    mayChange:
      'Nous pouvons modifier cette déclaration de confidentialité. Nous publions les modifications au même endroit ; consultez donc régulièrement cette déclaration.',
    latestAt: (url) => `La version la plus récente se trouve toujours sur ${url}.`,
    version: (v, d) => `Version ${v}, en vigueur depuis le ${d}.`,
    replaces: (d) => `Cette version remplace la déclaration de confidentialité du ${d}.`,
  },
  channels: {
    email: (a) => (a === undefined ? 'e-mail' : `un e-mail à ${a}`),
    post: (a) => (a === undefined ? 'une lettre' : `une lettre à ${a}`),
    account_settings: () => 'les paramètres personnels de votre compte',
    customer_service: () => 'notre service clientèle',
    unsubscribe_link: () => 'le lien de désinscription dans chaque envoi',
    cookie_banner: () => 'les paramètres de cookies de notre site',
    browser_settings: () => 'les paramètres de votre navigateur',
  },
};

const en: StatementTexts = {
  title: (c) => `Privacy statement of ${c}`,
  intro: (c, s) =>
    `${c} processes personal data of ${s}. This statement explains which data we process, why and on which legal basis, how we protect it, how long we keep it, with whom we share it and what your rights are.`,
  generated:
    'This statement is produced from the same privacy policy that our software enforces: what it says is what our systems do.',
  headings: {
    controller: 'Who is responsible for your data?',
    data: 'Which personal data do we process?',
    purposes: 'Why and on which legal basis do we process your data?',
    newsletter: 'Newsletter and other messages',
    security: 'How do we protect your data?',
    retention: 'How long do we keep your data?',
    sharing: 'With whom do we share your data?',
    cookies: 'Cookies and similar techniques',
    minors: 'Minors and sensitive data',
    rights: 'Your rights and how to exercise them',
    complaints: 'Complaints',
    changes: 'Changes and version',
  },
  fields: {
    name: 'Name',
    address: 'Address',
    enterpriseNumber: 'Enterprise number',
    phone: 'Phone',
    email: 'E-mail',
    website: 'Website',
    privacyContact: 'Privacy questions',
  },
  categoryGroups: {
    identification: 'Identification data',
    contact: 'Contact data',
    professional: 'Professional data',
    financial: 'Financial data',
    contract: 'Contract data',
    technical: 'Technical data',
    online: 'Data about your visit to our website',
    telephony: 'Telephony data',
    marketing: 'Marketing data',
    recruitment: 'Application data',
  },
  dataIntro: (c) =>
    `${c} processes data you give us, data that arises when you use our services or visit our website, and in a few cases data from others. We process only the following data:`,
  source: (category, source) => `We obtain ${category} from ${source}.`,
  legalBases: {
    consent: 'your consent',
    contract: 'the performance of a contract with you (or steps at your request before a contract)',
    legal_obligation: 'a legal obligation',
    vital_interests: 'the protection of your vital interests',
    public_task: 'a task in the public interest',
    legitimate_interests: 'our legitimate interest',
  },
  legalBasesUsed: (list) => `We process personal data on the basis of ${list}.`,
  purposesIntro: 'We use your data only for the following purposes:',
  purpose: {
    basis: 'Legal basis',
    data: 'Data',
    retention: 'Retention',
    withdraw: (ch) => `You can withdraw your consent at any time via ${ch}.`,
    objectMarketing: 'You can always object to this free of charge.',
    objectLegitimate: 'You can object to this.',
  },
  newsletter: {
    legitimate: (s) =>
      `We may send ${s} a newsletter and other commercial or non-commercial messages on the basis of our legitimate interest; you can always unsubscribe (opt-out).`,
    optIn: (s, double) =>
      `${s.charAt(0).toUpperCase()}${s.slice(1)} are not considered customers: they receive our messages only after subscribing themselves (opt-in)${double ? ' and confirming that subscription through a confirmation e-mail' : ''}.`,
    noOptIn: 'People who are not customers do not receive these messages.',
    unsubscribe: 'Every mailing contains a link to unsubscribe at once, without logging in.',
    tracking:
      'Our e-mails can measure whether you open them and which links you click, but only if you consented to it; without your consent they contain no tracking pixel and plain links.',
  },
  security: {
    intro: (c) =>
      `${c} takes the protection of your data seriously and takes technical and organisational measures against misuse, loss, unauthorised access, unwanted disclosure and unlawful alteration.`,
    environment:
      'Your data is kept in a secured environment that is not accessible to the public. Only the limited number of staff who need it for their work can consult it: each role sees only the data of the purposes it works for, and every consultation is recorded.',
    roles: (r) => `Roles with access: ${r}.`,
    misuse: (ch) =>
      `Do you feel your data is not properly secured, or do you see signs of misuse? Report it via ${ch}.`,
    incidents:
      'Every report is recorded in our incident register. We notify a personal data breach to the supervisory authority within 72 hours of becoming aware of it and, if it puts you at high risk, we inform you.',
  },
  retention: {
    intro:
      'We keep personal data no longer than needed for the purpose for which we collected it, or than the law requires. Then it is erased. Data that serves several purposes is kept as long as the longest of them requires.',
    rule: (r) => {
      switch (r.kind) {
        case 'contract_duration':
          return 'while the contract runs';
        case 'after_contract_end':
          return `while the contract runs and ${r.years} years after it ends`;
        case 'inactivity':
          return `until at most ${r.years} years without activity; then we delete it from our files`;
        case 'on_termination':
          return r.writtenNotice
            ? 'while we work together; as soon as you tell us in writing that you end the relationship, we delete it immediately and irrevocably'
            : 'while we work together; when the relationship ends, we delete it immediately and irrevocably';
        case 'until_bill_uncontestable':
          return `until the invoice that billed them can no longer be contested: ${r.months} months after its due date (longer while it is disputed); never before they are invoiced`;
        case 'accounting':
          return `${r.years} years, counted from 1 January after the date of the document`;
        case 'after_collection':
          return `${r.months} months after we last received data from you`;
        case 'until_withdrawn':
          return r.maxYears === undefined
            ? 'until you withdraw your consent or object'
            : `until you withdraw your consent or object, and at most ${r.maxYears} years after our last contact with you`;
        case 'inherited':
          return 'we keep no copy of our own for this';
      }
    },
    appliesTo: (p) => `applies to: ${p}`,
    returnOnRequest:
      'If you ask us for your data (access or portability) before this period ends, we erase none of it until we have given it to you, within the time we have to answer your request; whatever remains is then destroyed carefully and securely.',
    hold: (label, ref, cats, period) =>
      `Legal retention obligation – ${label} (${ref}): we keep ${cats} ${period}, even if you ask us to erase them. After that period they are erased.`,
  },
  sharing: {
    intro: 'We pass your personal data only to the recipients below.',
    logged: 'Each recipient gets only the data its task requires, and every disclosure is recorded.',
    kinds: {
      processor: 'processor',
      third_party: 'third party',
      group_company: 'group company',
      authority: 'public authority',
    },
    region: { EU: 'within the European Union', EEA: 'within the European Economic Area' },
    data: 'data',
    agreement: 'under a data processing agreement; may use the data only on our instructions',
    safeguard: 'transfer safeguard',
    safeguards: {
      adequacy_decision: 'adequacy decision of the European Commission',
      standard_contractual_clauses: 'standard contractual clauses of the European Commission',
      binding_corporate_rules: 'binding corporate rules',
      explicit_consent: 'your explicit consent',
    },
    none: 'We do not pass personal data to third parties.',
    measures:
      'We require all recipients to take appropriate technical and organisational measures to protect your data.',
    confidentiality: 'Within our company, our staff are bound to respect the confidentiality of your data.',
    noTransfers: (region) =>
      region === 'EU'
        ? 'We do not provide personal data to parties established outside the European Union (EU).'
        : 'We do not provide personal data to parties established outside the European Economic Area (EEA).',
    safeguardedTransfers:
      'A recipient outside the European Economic Area receives data only under the safeguard listed for it above.',
  },
  cookies: {
    used: (cats) => `Our website uses ${cats} cookies.`,
    what: 'A cookie is a small text file stored in the browser of your computer, tablet or smartphone when you visit our website.',
    consent:
      'Functional cookies are needed for the website to work properly and to remember your preferences. We set other cookies only with your consent, which we ask for on your first visit.',
    withdraw:
      'You can withdraw your consent at any time via the cookie settings on our website. You can also refuse cookies or delete stored cookies in your browser settings.',
    linked:
      'Your cookie choice is linked to nobody unless you log in to our privacy portal in a browser that keeps it: we then link it to you, so it shows in the overview of your data, and we erase that link with your data.',
    proof: (choice, months) =>
      `As proof of your consent, we keep for each cookie choice which categories you chose, when, in which language and under which version of this cookie list. A choice holds for ${choice}; ${months > 0 ? `we then keep that proof for ${months} more ${months === 1 ? 'month' : 'months'}, as long as we keep data collected under that consent, and then erase it.` : 'we then erase that proof.'}`,
    categories: { functional: 'functional', analytical: 'analytical', tracking: 'tracking' },
    lifetime: (iso) => {
      const p = periodParts(iso);
      if (p === undefined) return 'until you close the browser';
      const unit = { Y: 'year', M: 'month', D: 'day' }[p.unit];
      return `${p.n} ${unit}${p.n === 1 ? '' : 's'}`;
    },
    item: (name, cat, provider, lifetime, purpose) =>
      `${name} (${cat} cookie from ${provider}, kept ${lifetime}): ${purpose}`,
    external: (url) =>
      `For the technical data and cookies kept through our website, we refer to the privacy policy of our hosting platform: ${url}`,
    none: 'Our website sets no cookies.',
  },
  minors: {
    rule: (age) =>
      `We do not intend to collect data of persons under ${age} years of age unless a parent or guardian consented to it.`,
    parents:
      "We cannot always check a person's age. We therefore advise parents to be involved in their children's online activities.",
    report: (ch) =>
      `Do you believe we collected data of a minor without that consent? Report it via ${ch}, and we will delete that data.`,
  },
  sensitive: {
    none: 'We do not collect or process sensitive personal data.',
    withConsent: 'Should we ever need such data, we will first ask for your explicit consent.',
    examples:
      'Sensitive data includes identification numbers such as the national register number, data on racial or ethnic origin, political opinions, religious or philosophical beliefs, trade union membership, physical or mental health, biometric or genetic data, sex life or sexual orientation, and criminal records.',
  },
  rights: {
    intro: 'You have the following rights over your personal data:',
    items: {
      access:
        'Right of access: you can ask which data we hold about you, why and on which basis, to whom we gave it, how long we keep it and where it came from. What we gave to a court or the police while they forbid us to tell you, we tell you once that ban ends.',
      rectification: 'Right to rectification: you can have inaccurate or incomplete data corrected.',
      erasure:
        'Right to erasure: you can ask us at any time to delete your data. What the law obliges us to keep, we explain to you: what, why and until when.',
      restriction: 'Right to restriction: you can ask us only to store your data and no longer use it.',
      objection: 'Right to object: you can object to processing based on our legitimate interest.',
      portability:
        'Right to data portability: you can receive your data in a structured, commonly used and machine-readable format (a computer file).',
      withdraw_consent:
        'Withdrawing consent: whatever we do on the basis of your consent stops as soon as you withdraw it.',
      object_direct_marketing:
        'Objecting to direct marketing: you can always object free of charge to the use of your data for direct marketing; that use then stops at once.',
    },
    restrictionExcept: (uses) =>
      `Right to restriction: you can ask us only to store your data and no longer use it, except for: ${uses}.`,
    whileContract:
      'While a contract with you runs, we need your data to carry it out and bill it. If you ask us to erase them meanwhile, we answer within the month with the date and erase them on the day after the last day of your contracts with us, without you asking again; if you make a new contract before that day, the date moves to its end and we tell you so.',
    selfService: 'You can also delete your data yourself, in the personal settings of your account.',
    toOtherOrganisation: 'On request we send that file to you or to another organisation you name.',
    highlighted: (cats) => `These rights also cover ${cats}.`,
    how: (ch) => `You exercise your rights via ${ch}.`,
    verification: 'We may ask you to prove your identity before acting on your request:',
    methods: {
      code_to_contact_on_file:
        'with a code we send to contact details we already have for you (never to new ones)',
      staff_check: 'by a member of staff checking your identity',
    },
    deadline: (d) =>
      `We act on your request within ${d} days of receiving it. Where a request is complex or we receive many, we may extend this once by at most two further months; we tell you so, and why, within those ${d} days.`,
    free: 'Exercising your rights is free of charge.',
  },
  complaints: {
    first: (contact) =>
      `If you have a complaint about the processing of your personal data, please contact us directly first via ${contact}.`,
    authority: 'You always have the right to lodge a complaint with the supervisory authority:',
  },
  changes: {
    mayChange:
      'We may change this privacy statement. We publish changes in the same place, so please check this statement regularly.',
    latestAt: (url) => `The most recent version is always available at ${url}.`,
    version: (v, d) => `Version ${v}, in force since ${d}.`,
    replaces: (d) => `This version replaces the privacy statement of ${d}.`,
  },
  channels: {
    email: (a) => (a === undefined ? 'e-mail' : `e-mail to ${a}`),
    post: (a) => (a === undefined ? 'a letter' : `a letter to ${a}`),
    account_settings: () => 'the personal settings of your account',
    customer_service: () => 'our customer service',
    unsubscribe_link: () => 'the unsubscribe link in every mailing',
    cookie_banner: () => 'the cookie settings on our website',
    browser_settings: () => 'your browser settings',
  },
};

export const STATEMENT_TEXTS: Record<Language, StatementTexts> = { nl, fr, en };

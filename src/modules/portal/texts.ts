import type { PasswordRule } from '../../platform/password-rules.js';
import type { Language, Right } from '../../kernel/policy/policy.schema.js';

/**
 * Every word the portal pages show, per language. One interface for the three languages, so a
 * missing translation does not compile. Facts (names, periods, purposes) come from the policy.
 */
export interface PortalTexts {
  languageName: string;
  skip: string;
  nav: { statement: string; rights: string; account: string; languages: string };
  footer: (controller: string) => string;
  statement: { contents: string; rightsLinks: string };
  rights: {
    title: string;
    intro: string;
    names: Record<Right, string>;
    /** `restriction`: the plain promise, for a policy whose purposes all stop on a restriction. */
    explain: Record<Right, string>;
    /** The restriction with the uses it leaves (decision 0902). */
    explainRestrictionExcept: (purposes: string) => string;
    open: string;
    accountHint: string;
  };
  form: {
    title: (right: string) => string;
    email: string;
    emailHint: string;
    purposes: string;
    purposesHint: string;
    transferTo: string;
    transferToHint: string;
    fields: string;
    fieldsHint: string;
    fieldNames: Record<CorrectableField, string>;
    submit: string;
    required: string;
    errorTitle: string;
    expired: string;
    invalid: { email: string; corrections: string; transferTo: string };
  };
  confirm: {
    title: string;
    sent: string;
    code: string;
    codeHint: string;
    submit: string;
    wrong: string;
    tooMany: string;
  };
  status: {
    title: string;
    kind: string;
    state: string;
    received: string;
    due: string;
    states: Record<'awaiting_verification' | 'verified' | 'fulfilled' | 'rejected', string>;
    next: Record<'awaiting_verification' | 'verified' | 'fulfilled' | 'rejected', string>;
    downloadMailed: string;
    keep: string;
    /** An erasure answered and waiting for the contract's end: on which day (null: once it ends; decision 1210). */
    erasureWaits: (on: string | null) => string;
  };
  errors: {
    notFound: string;
    generic: string;
    back: string;
    forbidden: string;
    tooMany: string;
    /** A second download of one's own data while the first still runs (decision 0490). */
    exportRunning: string;
    exportsBusy: string;
    /** A form's choice the page no longer offers or never did (a stale page, a changed policy). */
    refused: string;
  };
  mail: { codeIntro: string; codeLink: string };
  account: {
    title: string;
    loginTitle: string;
    linkIntro: string;
    linkSubmit: string;
    linkSent: string;
    passwordIntro: string;
    password: string;
    passwordSubmit: string;
    loginFailed: string;
    logout: string;
    home: string;
    sections: {
      data: string;
      correct: string;
      erase: string;
      requests: string;
      settings: string;
      downloads: string;
    };
    homeIntro: string;
  };
  data: {
    title: string;
    intro: string;
    /** Names of tables whose categories alone would give two tables the same name. */
    tableNames: Partial<Record<string, string>>;
    category: string;
    purposes: string;
    /** 'on the basis of …' with the legal basis's words (French elides: « d'une obligation »). */
    basis: (basis: string) => string;
    recipients: string;
    retention: string;
    source: string;
    fromYou: string;
    noRecipients: string;
    values: string;
    rows: (count: number) => string;
    previous: string;
    next: string;
    month: string;
    page: (page: number, pages: number) => string;
    downloadJson: string;
    downloadZip: string;
    withheld: string;
    consulted: string;
    consultedNone: string;
    consultedMore: (shown: number, total: number) => string;
  };
  correct: {
    title: string;
    intro: string;
    submit: string;
    done: string;
    /** A saved correction: the fields (their labels, joined) that changed, and only those. */
    corrected: (fields: string) => string;
    /** Saved with nothing changed: the button did something, and says so. */
    unchanged: string;
    /** A refused correction: which fields (their labels, joined) are not right. */
    invalid: (fields: string) => string;
    /** A correction refused because it holds data that may not be stored (VK-16). */
    sensitive: string;
  };
  /** The page of a mailed one-time link: a GET shows a button, only the button spends it (decision 0400). */
  oneTime: {
    loginTitle: string;
    loginIntro: string;
    loginSubmit: string;
    downloadTitle: string;
    downloadIntro: string;
    downloadSubmit: string;
    downloadGone: string;
    /** A technician's one-time link to one secret (decision 0472). */
    shareTitle: string;
    /** `what`: the secret's name; `until`: the link's end, local date and time. */
    shareIntro: (what: string, until: string) => string;
    shareSubmit: string;
    shareOnce: string;
    shareGone: string;
  };
  erase: {
    title: string;
    intro: string;
    kept: string;
    nothingKept: string;
    keptItem: (what: string, why: string, until: string) => string;
    confirm: string;
    submit: string;
    done: string;
    letter: string;
    /**
     * A legal hold, an open dispute or an open hand-over for collection keeps the person (decisions
     * 0415, 0465): nothing can be erased now. Without an end day, `claim` says what is open.
     */
    held: (
      until: string | null,
      claim: 'dispute' | 'collection' | 'contract',
      eraseOn?: string | null,
    ) => string;
    /** Under running contracts: the box and button that ask the erasure for after the last day (decision 1210). */
    deferConfirm: string;
    deferSubmit: string;
    /** The erasure asked while a contract runs: when it will be carried out (decision 1210). */
    deferred: (lastDay: string | null, eraseOn: string | null) => string;
  };
  myRequests: { title: string; none: string };
  report: {
    title: string;
    intro: string;
    kind: string;
    misuse: string;
    insecurity: string;
    description: string;
    descriptionHint: string;
    noticedOn: string;
    noticedOnHint: string;
    submit: string;
    received: string;
    invalid: string;
    sensitive: string;
    link: string;
  };
  dossier: {
    title: string;
    intro: string;
    empty: string;
    assets: string;
    credentials: string;
    facts: string;
    revealPassword: string;
    revealTotp: string;
    revealed: string;
    attachments: string;
    /** Size in words: "12 kB". */
    size: (bytes: number) => string;
    kinds: Record<'application/pdf' | 'image/png' | 'image/jpeg' | 'text/plain' | 'other', string>;
    secretFile: string;
    download: string;
    revealFile: string;
    fields: Record<
      | 'serial'
      | 'location'
      | 'hostname'
      | 'ipAddress'
      | 'url'
      | 'username'
      | 'password'
      | 'totpSeed'
      | 'value'
      | 'expiresOn',
      string
    >;
  };
  consents: {
    title: string;
    intro: string;
    states: Record<'consented' | 'withdrawn' | 'objected' | 'pending' | 'none', string>;
    since: string;
    give: string;
    withdraw: string;
    object: string;
    marketingTitle: string;
    marketingIntro: string;
    marketingButton: string;
    marketingDone: string;
    saved: string;
    /** A double opt-in asked in the portal with no address on file to confirm it at (decision 1021). */
    noAddress: string;
    /** Under an objection to the technical dossier: it was erased with it (decision 0915, VX-4/VX-15). */
    dossierErased: string;
    /** Cookie choices linked to the account at a portal login (docs/decisions/0290). */
    cookies: {
      title: string;
      intro: string;
      none: string;
      columns: { given: string; choice: string; where: string; until: string };
      accepted: (categories: string) => string;
      onlyFunctional: string;
      categories: Record<'analytical' | 'tracking', string>;
      sources: Record<'banner' | 'settings' | 'gpc', string>;
      settingsLink: string;
    };
  };
  settings: {
    title: string;
    language: string;
    languageSubmit: string;
    password: string;
    passwordHint: string;
    currentPassword: string;
    passwordSubmit: string;
    saved: string;
    /** After a password change: saved, and every other session ended (decision 1061). */
    passwordSaved: string;
    /** Why a new password was refused, per stable rule code (decision 1060). */
    passwordRefused: Record<PasswordRefusal, string>;
  };
}

/** The rules of a new password and of the current one, as the settings page names them. */
export type PasswordRefusal =
  PasswordRule | 'current_password_wrong' | 'current_password_required' | 'password_changed_meanwhile';

export type CorrectableField =
  'givenName' | 'familyName' | 'email' | 'phone' | 'street' | 'postalCode' | 'city';

const nl: PortalTexts = {
  languageName: 'Nederlands',
  skip: 'Naar de inhoud',
  nav: { statement: 'Privacyverklaring', rights: 'Uw rechten', account: 'Mijn account', languages: 'Taal' },
  footer: (c) => `Privacyportaal van ${c}`,
  statement: { contents: 'Inhoud', rightsLinks: 'Een recht uitoefenen' },
  rights: {
    title: 'Uw rechten',
    intro: 'Kies wat u wilt vragen. Wij antwoorden binnen de termijn die de wet ons geeft, en het is gratis.',
    names: {
      access: 'Inzage in uw gegevens',
      portability: 'Uw gegevens meenemen',
      rectification: 'Uw gegevens laten verbeteren',
      erasure: 'Uw gegevens laten wissen',
      restriction: 'Het gebruik van uw gegevens laten beperken',
      objection: 'Bezwaar maken',
      withdraw_consent: 'Uw toestemming intrekken',
      object_direct_marketing: 'Geen direct marketing meer',
    },
    explain: {
      access: 'U krijgt alles wat wij over u bewaren, met waarom, hoelang en van waar.',
      portability:
        'U krijgt uw gegevens in een bestand dat een computer kan lezen, of wij sturen het naar een andere organisatie.',
      rectification: 'Staat er iets fout, dan verbeteren wij het.',
      erasure:
        'Wij wissen uw gegevens, behalve wat de wet ons verplicht te bewaren; u hoort wat en tot wanneer.',
      restriction: 'Wij bewaren uw gegevens nog, maar gebruiken ze niet meer.',
      objection: 'Wij stoppen met het gebruik van uw gegevens voor onze gerechtvaardigde belangen.',
      withdraw_consent: 'Wat u ons toestond, stoppen wij meteen.',
      object_direct_marketing: 'U krijgt geen reclame of nieuwsbrieven meer van ons.',
    },
    explainRestrictionExcept: (uses) =>
      `Wij bewaren uw gegevens nog, maar gebruiken ze niet meer, behalve voor: ${uses}.`,
    open: 'Naar het formulier',
    accountHint: 'Hebt u een account? Meld u aan: dan is een code niet nodig.',
  },
  form: {
    title: (right) => right,
    email: 'Uw e-mailadres',
    emailHint: 'Het adres dat wij van u hebben. Wij sturen er een code naar om te bevestigen dat u het bent.',
    purposes: 'Voor welke doeleinden?',
    purposesHint: 'Kiest u niets, dan geldt het voor alle doeleinden hieronder.',
    transferTo: 'Naar een andere organisatie sturen (niet verplicht)',
    transferToHint: 'Het https-adres dat die organisatie u gaf. Laat leeg om de gegevens zelf te downloaden.',
    fields: 'Wat moet er verbeterd worden?',
    fieldsHint:
      'Vul alleen in wat fout is; voor een nieuw adres straat, postcode en gemeente samen. Zodra u de code ingeeft, verbeteren wij het.',
    fieldNames: {
      givenName: 'Voornaam',
      familyName: 'Naam',
      email: 'E-mailadres',
      phone: 'Telefoonnummer',
      street: 'Straat en nummer',
      postalCode: 'Postcode',
      city: 'Gemeente',
    },
    submit: 'Verzoek versturen',
    required: 'verplicht',
    errorTitle: 'Er ging iets mis',
    invalid: {
      email: 'Vul een geldig e-mailadres in.',
      corrections: 'Vul minstens één veld in; voor een nieuw adres straat, postcode en gemeente samen.',
      transferTo:
        'Dit adres kunnen wij niet gebruiken: geef het https-adres van de organisatie, of laat het leeg.',
    },
    expired: 'Het formulier is verlopen. Probeer het opnieuw.',
  },
  confirm: {
    title: 'Geef de code in',
    sent: 'Als wij dit e-mailadres kennen, stuurden wij er een code van zes cijfers naar. De code is 15 minuten geldig.',
    code: 'Code uit de e-mail',
    codeHint: 'Zes cijfers',
    submit: 'Bevestigen',
    wrong: 'De code is fout of niet meer geldig.',
    tooMany: 'Te veel pogingen. Wacht even en probeer het opnieuw.',
  },
  status: {
    title: 'Stand van uw verzoek',
    kind: 'Verzoek',
    state: 'Stand',
    received: 'Ontvangen op',
    due: 'Antwoord uiterlijk op',
    states: {
      awaiting_verification: 'wacht op uw code',
      verified: 'bevestigd, in behandeling',
      fulfilled: 'uitgevoerd',
      rejected: 'afgewezen',
    },
    next: {
      awaiting_verification: 'Geef de code uit de e-mail in om uw verzoek te bevestigen.',
      verified: 'Onze medewerkers behandelen uw verzoek. U krijgt een e-mail zodra het klaar is.',
      fulfilled: 'Wij stuurden u een e-mail met het resultaat.',
      rejected: 'Wij stuurden u een e-mail met de reden.',
    },
    erasureWaits: (on) =>
      on
        ? `beantwoord: wij wissen uw gegevens op ${on}`
        : 'beantwoord: wij wissen uw gegevens de dag na het einde van uw contract',
    downloadMailed:
      'De link om uw gegevens te downloaden staat in de e-mail die wij u stuurden. Hij werkt 7 dagen lang, voor één volledige download; een onderbroken download kunt u opnieuw starten (tot 3 keer).',
    keep: 'Bewaar het adres van deze pagina om de stand later te bekijken.',
  },
  errors: {
    notFound: 'Deze pagina bestaat niet of is verlopen.',
    generic: 'Er ging iets mis. Probeer het later opnieuw.',
    back: 'Terug',
    forbidden: 'Dit formulier is verlopen of kwam niet van deze site. Probeer het opnieuw.',
    tooMany: 'Te veel pogingen. Wacht even en probeer het opnieuw.',
    exportRunning:
      'Er wordt al een download van uw gegevens gemaakt. Wacht tot die klaar is en probeer het dan opnieuw.',
    exportsBusy: 'Er worden nu veel downloads tegelijk gemaakt. Probeer het over enkele ogenblikken opnieuw.',
    refused:
      'Deze keuze bestaat niet (meer) of kan hier niet gemaakt worden. Er is niets gewijzigd; herlaad de pagina en kies opnieuw.',
  },
  mail: {
    codeIntro: 'Om te bevestigen dat u het bent, geeft u deze code in op de pagina "Geef de code in":',
    codeLink: 'Die pagina opent u met deze link:',
  },
  account: {
    title: 'Mijn account',
    loginTitle: 'Aanmelden',
    linkIntro: 'Wij sturen een aanmeldlink naar uw e-mailadres. Hij werkt één keer en 15 minuten lang.',
    linkSubmit: 'Stuur mij een aanmeldlink',
    linkSent: 'Als wij dit e-mailadres kennen, staat er nu een aanmeldlink in uw mailbox.',
    passwordIntro: 'Of meld u aan met uw wachtwoord.',
    password: 'Wachtwoord',
    passwordSubmit: 'Aanmelden',
    loginFailed: 'Onbekend account, fout wachtwoord of verlopen link.',
    logout: 'Afmelden',
    home: 'Overzicht',
    sections: {
      data: 'Mijn gegevens',
      correct: 'Mijn gegevens verbeteren',
      erase: 'Mijn account wissen',
      requests: 'Mijn verzoeken',
      settings: 'Taal en wachtwoord',
      downloads: 'Downloaden',
    },
    homeIntro: 'Hier ziet en beheert u wat wij over u bewaren.',
  },
  data: {
    title: 'Mijn gegevens',
    tableNames: {
      cookie_choices_of_subjects: 'Cookiekeuzes: de keuzes die u maakte',
      cookie_consent_links: 'Cookiekeuzes: de browsers die aan u gekoppeld zijn',
    },
    intro:
      'Alles wat wij over u bewaren, per soort gegeven: waarvoor, op welke grond, met wie gedeeld, hoelang en van waar.',
    category: 'Gegeven',
    purposes: 'Waarvoor',
    basis: (basis) => `op grond van ${basis}`,
    recipients: 'Gedeeld met',
    retention: 'Hoelang',
    source: 'Van waar',
    fromYou: 'van u zelf of uit het gebruik van onze diensten',
    noRecipients: 'met niemand',
    values: 'Wat wij bewaren',
    rows: (n) => (n === 1 ? '1 regel' : `${n} regels`),
    previous: 'Vorige',
    next: 'Volgende',
    month: 'Maand',
    page: (p, n) => `Pagina ${p} van ${n}`,
    downloadJson: 'Alles downloaden (JSON)',
    downloadZip: 'Alles downloaden (ZIP met JSON en CSV)',
    withheld: 'Niet getoond, om uw account te beschermen: wachtwoord- en codegegevens.',
    consulted: 'Wie uw gegevens raadpleegde',
    consultedNone: 'Nog niemand.',
    consultedMore: (shown, total) =>
      `De ${shown} recentste van ${total} regels; de volledige lijst staat in de download.`,
  },
  correct: {
    title: 'Mijn gegevens verbeteren',
    intro: 'Verbeter wat fout is. De oude waarde bewaren wij niet.',
    submit: 'Opslaan',
    done: 'Uw gegevens zijn verbeterd.',
    corrected: (fields) => `Uw gegevens zijn verbeterd. Gewijzigd: ${fields}.`,
    unchanged: 'Niets verbeterd: u wijzigde geen enkel veld.',
    invalid: (fields) =>
      `Niets verbeterd: controleer ${fields}. Een adres heeft straat, postcode en gemeente samen nodig; een telefoonnummer moet volledig zijn.`,
    sensitive:
      'Niets verbeterd: wat u invulde lijkt gegevens te bevatten die wij hier niet mogen bewaren (zoals een rijksregisternummer of rekeningnummer).',
  },
  oneTime: {
    loginTitle: 'Aanmelden met uw link',
    loginIntro: 'Klik op de knop om u aan te melden. De link werkt één keer en 15 minuten lang.',
    loginSubmit: 'Aanmelden',
    downloadTitle: 'Uw gegevens downloaden',
    downloadIntro:
      'Klik op de knop om het bestand met uw gegevens te downloaden. De link werkt 7 dagen, voor één volledige download; een onderbroken download kunt u opnieuw starten (tot 3 keer).',
    downloadSubmit: 'Downloaden',
    downloadGone:
      'Deze link is onbekend, al gebruikt of verlopen. Dien een nieuw verzoek in om uw gegevens te krijgen.',
    shareTitle: 'Gedeeld door onze technicus',
    shareIntro: (what, until) =>
      `Onze technicus deelt dit met u: ${what}. Klik op de knop om het te tonen. De link werkt één keer, tot ${until}.`,
    shareSubmit: 'Tonen',
    shareOnce: 'Deze link is nu gebruikt: kopieer de waarde nu, ze wordt niet opnieuw getoond.',
    shareGone: 'Deze link is onbekend, al gebruikt of verlopen. Vraag onze technicus om een nieuwe.',
  },
  erase: {
    title: 'Mijn account wissen',
    intro: 'Wij wissen al uw gegevens meteen, behalve wat de wet ons verplicht te bewaren.',
    kept: 'Wat wij nog moeten bewaren, waarom en tot wanneer:',
    nothingKept: 'Wij hoeven niets te bewaren: alles wordt gewist.',
    keptItem: (what, why, until) => `${what}: ${why}. Tot: ${until}.`,
    confirm: 'Ja, wis mijn account',
    submit: 'Account wissen',
    done: 'Uw account is gewist. U krijgt een brief per e-mail met wat gewist is en wat nog bewaard wordt.',
    letter: 'Wissen kan niet ongedaan gemaakt worden.',
    held: (until, claim, eraseOn) =>
      claim === 'contract'
        ? `U hebt bij ons een contract dat nog loopt (${until ? `tot ${until}` : 'zonder einddatum'}). Zolang het loopt, hebben wij uw gegevens nodig om die dienst te leveren en te factureren (AVG art. 6, lid 1, b); er is nog niets gewist. Vraagt u hier de wissing, dan noteren wij ze nu en wissen wij uw gegevens de dag na de laatste dag van uw contract (${eraseOn ? `op ${eraseOn}` : 'zodra het beëindigd is; zeg het op, schriftelijk, per e-mail of telefonisch'}); u hoeft het niet opnieuw te vragen. Wat de wet ons verplicht te bewaren, zoals uw facturen, blijft bewaard.`
        : `Uw gegevens worden bewaard voor een rechtsvordering (AVG art. 17, lid 3, e), ${until ? `tot ${until}` : claim === 'collection' ? 'tot de onbetaalde factuur die wij voor inning uit handen gaven, betaald of afgesloten is' : 'tot het geschil over uw factuur beslecht is'}. Tot dan kunnen wij uw account niet wissen; er is niets gewist. Nadien kunt u het opnieuw vragen.`,
    deferConfirm: 'Ja, wis mijn account de dag na de laatste dag van mijn contract',
    deferSubmit: 'Wissing vragen',
    deferred: (lastDay, eraseOn) =>
      lastDay && eraseOn
        ? `Uw vraag om uw account te wissen is genoteerd. Wij wissen uw gegevens op ${eraseOn}, de dag na de laatste dag van uw contract (${lastDay}). U krijgt per e-mail een brief met wat gewist is en wat nog bewaard wordt.`
        : 'Uw vraag om uw account te wissen is genoteerd. Uw contract heeft geen einddatum: wij wissen uw gegevens de dag na de laatste dag ervan, zodra het beëindigd is. U krijgt per e-mail een brief met wat gewist is en wat nog bewaard wordt.',
  },
  myRequests: { title: 'Mijn verzoeken', none: 'U hebt nog geen verzoeken ingediend.' },
  report: {
    title: 'Misbruik of onveiligheid melden',
    intro:
      'Merkte u dat uw gegevens of die van iemand anders misbruikt worden, of dat ze niet veilig zijn? Meld het hier. U hoeft uzelf niet bekend te maken; zet geen wachtwoorden, rijksregister- of rekeningnummers in uw melding.',
    kind: 'Wat wilt u melden?',
    misuse: 'Misbruik van persoonsgegevens',
    insecurity: 'Een onveilige situatie (bijvoorbeeld een lek)',
    description: 'Wat gebeurde er?',
    descriptionHint: 'Minstens 10 tekens. Beschrijf wat u zag, waar en wanneer.',
    noticedOn: 'Wanneer merkte u het?',
    noticedOnHint: 'Laat leeg als het vandaag was.',
    submit: 'Melding versturen',
    received: 'Dank u. Uw melding is ontvangen; onze privacyverantwoordelijke bekijkt ze.',
    invalid: 'Vul het soort melding in en beschrijf wat er gebeurde (minstens 10 tekens).',
    sensitive:
      'Uw melding lijkt gevoelige gegevens te bevatten (zoals een rekening- of rijksregisternummer). Laat die weg.',
    link: 'Misbruik of onveiligheid melden',
  },
  dossier: {
    title: 'Mijn technisch dossier',
    intro:
      'Wat onze technici bijhouden over uw toestellen, accounts en netwerk. Wachtwoorden staan versleuteld en verborgen; u kunt uw eigen wachtwoord hier tonen, en dat wordt vastgelegd.',
    empty: 'Uw technisch dossier is leeg.',
    assets: 'Toestellen',
    credentials: 'Accounts en wachtwoorden',
    facts: 'Netwerk en licenties',
    revealPassword: 'Wachtwoord tonen',
    revealTotp: 'TOTP-sleutel tonen',
    revealed: 'Getoond op uw vraag; dit is vastgelegd',
    attachments: 'Bijlagen',
    size: (bytes) => (bytes < 1024 ? `${bytes} bytes` : `${Math.ceil(bytes / 1024)} kB`),
    kinds: {
      'application/pdf': 'PDF-document',
      'image/png': 'afbeelding (PNG)',
      'image/jpeg': 'foto (JPEG)',
      'text/plain': 'tekstbestand',
      other: 'bestand',
    },
    secretFile: 'Geheim: de inhoud staat versleuteld en verborgen; downloaden wordt vastgelegd.',
    download: 'Downloaden',
    revealFile: 'Geheim bestand downloaden',
    fields: {
      serial: 'Serienummer',
      location: 'Plaats',
      hostname: 'Hostnaam',
      ipAddress: 'IP-adres',
      url: 'Adres',
      username: 'Gebruikersnaam',
      password: 'Wachtwoord',
      totpSeed: 'TOTP-sleutel',
      value: 'Waarde',
      expiresOn: 'Vervalt op',
    },
  },
  consents: {
    title: 'Mijn toestemmingen',
    intro: 'Wat u ons toestond en waartegen u bezwaar maakte. Een wijziging geldt meteen.',
    states: {
      consented: 'u gaf toestemming',
      withdrawn: 'u trok uw toestemming in',
      objected: 'u maakte bezwaar',
      pending: 'wacht op uw bevestiging per e-mail',
      none: 'geen keuze gemaakt',
    },
    since: 'sinds',
    give: 'Toestemming geven',
    withdraw: 'Toestemming intrekken',
    object: 'Bezwaar maken',
    marketingTitle: 'Direct marketing',
    marketingIntro:
      'U kunt zich kosteloos verzetten tegen elk gebruik van uw gegevens voor direct marketing.',
    marketingButton: 'Geen direct marketing meer',
    marketingDone: 'U maakte bezwaar tegen direct marketing.',
    saved: 'Uw keuze is opgeslagen.',
    dossierErased:
      'Met uw bezwaar hebben wij uw technisch dossier gewist (toestellen, instellingen en wachtwoorden); wij houden er geen meer bij.',
    noAddress:
      'Wij kennen geen e-mailadres van u om de inschrijving te bevestigen. Er is niets gewijzigd; schrijf u in met het formulier voor de nieuwsbrief.',
    cookies: {
      title: 'Mijn cookiekeuzes',
      intro:
        'De keuzes die u in de cookiebanner of op de cookie-instellingen maakte, in de browser waarmee u zich hier aanmeldde. Ze zijn pas aan u gekoppeld sinds die aanmelding.',
      none: 'Er is geen cookiekeuze aan u gekoppeld. Meldt u zich aan in een browser die een keuze bewaart, dan verschijnt ze hier.',
      columns: { given: 'Gemaakt op', choice: 'Keuze', where: 'Waar', until: 'Geldig tot' },
      accepted: (categories) => `toestemming voor ${categories} cookies`,
      onlyFunctional: 'alleen functionele cookies',
      categories: { analytical: 'analytische', tracking: 'tracking' },
      sources: {
        banner: 'cookiebanner',
        settings: 'cookie-instellingen',
        gpc: 'signaal van uw browser (GPC)',
      },
      settingsLink: 'Cookie-instellingen wijzigen',
    },
  },
  settings: {
    title: 'Taal en wachtwoord',
    language: 'Taal van onze berichten en van dit portaal',
    languageSubmit: 'Taal opslaan',
    password: 'Nieuw wachtwoord',
    passwordHint:
      '12 tot 200 tekens; geen veelgebruikt of gelekt wachtwoord, niet uw e-mailadres of onze naam',
    currentPassword: 'Huidig wachtwoord',
    passwordSubmit: 'Wachtwoord opslaan',
    saved: 'Opgeslagen.',
    passwordSaved:
      'Wachtwoord opgeslagen. Elke andere sessie van uw account is afgemeld: wie daar aangemeld was, moet opnieuw aanmelden.',
    passwordRefused: {
      password_too_short: 'Het nieuwe wachtwoord moet minstens 12 tekens lang zijn.',
      password_too_long: 'Het nieuwe wachtwoord mag hoogstens 200 tekens lang zijn.',
      password_repeated_character:
        'Het nieuwe wachtwoord mag geen kort of makkelijk te raden stuk zijn dat herhaald wordt (zoals ababab… of dragondragon…).',
      password_unchanged: 'Het nieuwe wachtwoord moet verschillen van het huidige.',
      password_context: 'Het nieuwe wachtwoord mag uw e-mailadres of onze naam niet bevatten.',
      password_common:
        'Dit wachtwoord wordt veel gebruikt of staat in lijsten van gelekte wachtwoorden (ook met cijfers of tekens erbij). Kies een ander.',
      current_password_wrong: 'Het huidige wachtwoord is niet juist.',
      password_changed_meanwhile:
        'Uw wachtwoord werd intussen al gewijzigd (in een ander venster of met een dubbele klik). Het nieuwe hier is niet opgeslagen; meld aan met het wachtwoord dat wel werd opgeslagen.',
      current_password_required:
        'Geef uw huidige wachtwoord. Kwijt? Vraag een aanmeldlink per e-mail: kort na het aanmelden met die link kunt u een nieuw wachtwoord kiezen zonder het huidige.',
    },
  },
};

const fr: PortalTexts = {
  languageName: 'Français',
  skip: 'Aller au contenu',
  nav: {
    statement: 'Déclaration de confidentialité',
    rights: 'Vos droits',
    account: 'Mon compte',
    languages: 'Langue',
  },
  footer: (c) => `Portail vie privée de ${c}`,
  statement: { contents: 'Sommaire', rightsLinks: 'Exercer un droit' },
  rights: {
    title: 'Vos droits',
    intro: 'Choisissez ce que vous souhaitez demander. Nous répondons dans le délai légal, et c’est gratuit.',
    names: {
      access: 'Accéder à vos données',
      portability: 'Emporter vos données',
      rectification: 'Faire corriger vos données',
      erasure: 'Faire effacer vos données',
      restriction: 'Faire limiter l’usage de vos données',
      objection: 'Vous opposer',
      withdraw_consent: 'Retirer votre consentement',
      object_direct_marketing: 'Plus de marketing direct',
    },
    explain: {
      access: 'Vous recevez tout ce que nous conservons sur vous, avec pourquoi, combien de temps et d’où.',
      portability:
        'Vous recevez vos données dans un fichier lisible par ordinateur, ou nous l’envoyons à une autre organisation.',
      rectification: 'Si quelque chose est faux, nous le corrigeons.',
      erasure:
        'Nous effaçons vos données, sauf ce que la loi nous oblige à garder ; vous saurez quoi et jusqu’à quand.',
      restriction: 'Nous gardons vos données mais ne les utilisons plus.',
      objection: 'Nous cessons d’utiliser vos données pour nos intérêts légitimes.',
      withdraw_consent: 'Ce que vous nous aviez permis, nous l’arrêtons aussitôt.',
      object_direct_marketing: 'Vous ne recevez plus de publicité ni de lettres d’information de notre part.',
    },
    explainRestrictionExcept: (uses) =>
      `Nous gardons vos données mais ne les utilisons plus, sauf pour : ${uses}.`,
    open: 'Vers le formulaire',
    accountHint: 'Vous avez un compte ? Connectez-vous : aucun code n’est alors nécessaire.',
  },
  form: {
    title: (right) => right,
    email: 'Votre adresse e-mail',
    emailHint:
      'L’adresse que nous avons de vous. Nous y envoyons un code pour confirmer qu’il s’agit bien de vous.',
    purposes: 'Pour quelles finalités ?',
    purposesHint: 'Si vous ne choisissez rien, cela vaut pour toutes les finalités ci-dessous.',
    transferTo: 'Envoyer à une autre organisation (facultatif)',
    transferToHint:
      'L’adresse https que cette organisation vous a donnée. Laissez vide pour télécharger vous-même.',
    fields: 'Que faut-il corriger ?',
    fieldsHint:
      'Ne remplissez que ce qui est faux ; pour une nouvelle adresse, la rue, le code postal et la commune ensemble. Dès que vous saisissez le code, nous le corrigeons.',
    fieldNames: {
      givenName: 'Prénom',
      familyName: 'Nom',
      email: 'Adresse e-mail',
      phone: 'Numéro de téléphone',
      street: 'Rue et numéro',
      postalCode: 'Code postal',
      city: 'Commune',
    },
    submit: 'Envoyer la demande',
    required: 'obligatoire',
    errorTitle: 'Un problème est survenu',
    invalid: {
      email: 'Indiquez une adresse e-mail valable.',
      corrections:
        'Remplissez au moins un champ ; pour une nouvelle adresse, la rue, le code postal et la commune ensemble.',
      transferTo:
        'Nous ne pouvons pas utiliser cette adresse : indiquez l’adresse https de l’organisation, ou laissez vide.',
    },
    expired: 'Le formulaire a expiré. Veuillez réessayer.',
  },
  confirm: {
    title: 'Saisissez le code',
    sent: 'Si nous connaissons cette adresse e-mail, nous y avons envoyé un code de six chiffres. Le code est valable 15 minutes.',
    code: 'Code reçu par e-mail',
    codeHint: 'Six chiffres',
    submit: 'Confirmer',
    wrong: 'Le code est erroné ou n’est plus valable.',
    tooMany: 'Trop de tentatives. Patientez un peu puis réessayez.',
  },
  status: {
    title: 'Suivi de votre demande',
    kind: 'Demande',
    state: 'État',
    received: 'Reçue le',
    due: 'Réponse au plus tard le',
    states: {
      awaiting_verification: 'en attente de votre code',
      verified: 'confirmée, en traitement',
      fulfilled: 'exécutée',
      rejected: 'refusée',
    },
    next: {
      awaiting_verification: 'Saisissez le code reçu par e-mail pour confirmer votre demande.',
      verified:
        'Nos collaborateurs traitent votre demande. Vous recevrez un e-mail dès qu’elle sera terminée.',
      fulfilled: 'Nous vous avons envoyé un e-mail avec le résultat.',
      rejected: 'Nous vous avons envoyé un e-mail avec le motif.',
    },
    erasureWaits: (on) =>
      on
        ? `répondu : nous effaçons vos données le ${on}`
        : 'répondu : nous effaçons vos données le lendemain de la fin de votre contrat',
    downloadMailed:
      'Le lien pour télécharger vos données figure dans l’e-mail que nous vous avons envoyé. Il fonctionne pendant 7 jours, pour un téléchargement complet ; un téléchargement interrompu peut être relancé (jusqu’à 3 fois).',
    keep: 'Conservez l’adresse de cette page pour suivre votre demande plus tard.',
  },
  errors: {
    notFound: 'Cette page n’existe pas ou a expiré.',
    generic: 'Un problème est survenu. Réessayez plus tard.',
    back: 'Retour',
    forbidden: 'Ce formulaire a expiré ou ne vient pas de ce site. Veuillez réessayer.',
    tooMany: 'Trop de tentatives. Patientez un peu puis réessayez.',
    exportRunning:
      'Un téléchargement de vos données est déjà en cours. Attendez qu’il soit terminé, puis réessayez.',
    exportsBusy: 'De nombreux téléchargements sont en cours en ce moment. Réessayez dans quelques instants.',
    refused:
      'Ce choix n’existe pas (ou plus) ou ne peut pas être fait ici. Rien n’a été modifié ; rechargez la page et choisissez à nouveau.',
  },
  mail: {
    codeIntro:
      'Pour confirmer qu’il s’agit bien de vous, saisissez ce code sur la page « Saisissez le code » :',
    codeLink: 'Ce lien ouvre cette page :',
  },
  account: {
    title: 'Mon compte',
    loginTitle: 'Se connecter',
    linkIntro:
      'Nous envoyons un lien de connexion à votre adresse e-mail. Il fonctionne une seule fois, pendant 15 minutes.',
    linkSubmit: 'Envoyez-moi un lien de connexion',
    linkSent: 'Si nous connaissons cette adresse e-mail, un lien de connexion vous attend dans votre boîte.',
    passwordIntro: 'Ou connectez-vous avec votre mot de passe.',
    password: 'Mot de passe',
    passwordSubmit: 'Se connecter',
    loginFailed: 'Compte inconnu, mot de passe erroné ou lien expiré.',
    logout: 'Se déconnecter',
    home: 'Aperçu',
    sections: {
      data: 'Mes données',
      correct: 'Corriger mes données',
      erase: 'Effacer mon compte',
      requests: 'Mes demandes',
      settings: 'Langue et mot de passe',
      downloads: 'Télécharger',
    },
    homeIntro: 'Ici, vous voyez et gérez ce que nous conservons sur vous.',
  },
  data: {
    title: 'Mes données',
    tableNames: {
      cookie_choices_of_subjects: 'Choix de cookies : les choix que vous avez faits',
      cookie_consent_links: 'Choix de cookies : les navigateurs liés à vous',
    },
    intro:
      'Tout ce que nous conservons sur vous, par type de donnée : pourquoi, sur quelle base, avec qui, combien de temps et d’où.',
    category: 'Donnée',
    purposes: 'Pourquoi',
    basis: (basis) => `sur la base ${/^[aeiouyhéèê]/i.test(basis) ? 'd’' : 'de '}${basis}`,
    recipients: 'Partagée avec',
    retention: 'Combien de temps',
    source: 'D’où',
    fromYou: 'de vous-même ou de l’utilisation de nos services',
    noRecipients: 'personne',
    values: 'Ce que nous conservons',
    rows: (n) => (n === 1 ? '1 ligne' : `${n} lignes`),
    previous: 'Précédent',
    next: 'Suivant',
    month: 'Mois',
    page: (p, n) => `Page ${p} sur ${n}`,
    downloadJson: 'Tout télécharger (JSON)',
    downloadZip: 'Tout télécharger (ZIP avec JSON et CSV)',
    withheld: 'Non affiché, pour protéger votre compte : données de mot de passe et de codes.',
    consulted: 'Qui a consulté vos données',
    consultedNone: 'Personne pour l’instant.',
    consultedMore: (shown, total) =>
      `Les ${shown} lignes les plus récentes sur ${total} ; la liste complète figure dans le téléchargement.`,
  },
  correct: {
    title: 'Corriger mes données',
    intro: 'Corrigez ce qui est faux. Nous ne gardons pas l’ancienne valeur.',
    submit: 'Enregistrer',
    done: 'Vos données ont été corrigées.',
    corrected: (fields) => `Vos données ont été corrigées. Modifié : ${fields}.`,
    unchanged: 'Rien n’a été corrigé : vous n’avez modifié aucun champ.',
    invalid: (fields) =>
      `Rien n’a été corrigé : vérifiez ${fields}. Une adresse demande la rue, le code postal et la commune ensemble ; un numéro de téléphone doit être complet.`,
    sensitive:
      'Rien n’a été corrigé : ce que vous avez saisi semble contenir des données que nous ne pouvons pas conserver ici (comme un numéro de registre national ou de compte).',
  },
  oneTime: {
    loginTitle: 'Se connecter avec votre lien',
    loginIntro: 'Cliquez sur le bouton pour vous connecter. Le lien fonctionne une fois, pendant 15 minutes.',
    loginSubmit: 'Se connecter',
    downloadTitle: 'Télécharger vos données',
    downloadIntro:
      'Cliquez sur le bouton pour télécharger le fichier de vos données. Le lien fonctionne 7 jours, pour un téléchargement complet ; un téléchargement interrompu peut être relancé (jusqu’à 3 fois).',
    downloadSubmit: 'Télécharger',
    downloadGone:
      'Ce lien est inconnu, déjà utilisé ou expiré. Introduisez une nouvelle demande pour obtenir vos données.',
    shareTitle: 'Partagé par notre technicien',
    shareIntro: (what, until) =>
      `Notre technicien partage ceci avec vous : ${what}. Cliquez sur le bouton pour l’afficher. Le lien fonctionne une fois, jusqu’au ${until}.`,
    shareSubmit: 'Afficher',
    shareOnce: 'Ce lien est maintenant utilisé : copiez la valeur maintenant, elle ne sera plus affichée.',
    shareGone: 'Ce lien est inconnu, déjà utilisé ou expiré. Demandez-en un nouveau à notre technicien.',
  },
  erase: {
    title: 'Effacer mon compte',
    intro: 'Nous effaçons aussitôt toutes vos données, sauf ce que la loi nous oblige à garder.',
    kept: 'Ce que nous devons encore garder, pourquoi et jusqu’à quand :',
    nothingKept: 'Nous ne devons rien garder : tout est effacé.',
    keptItem: (what, why, until) => `${what} : ${why}. Jusqu’à : ${until}.`,
    confirm: 'Oui, effacez mon compte',
    submit: 'Effacer le compte',
    done: 'Votre compte est effacé. Vous recevez une lettre par e-mail indiquant ce qui est effacé et ce qui est encore conservé.',
    letter: 'L’effacement est définitif.',
    held: (until, claim, eraseOn) =>
      claim === 'contract'
        ? `Vous avez chez nous un contrat toujours en cours (${until ? `jusqu’au ${until}` : 'sans date de fin'}). Tant qu’il court, nous avons besoin de vos données pour fournir ce service et le facturer (RGPD art. 6, par. 1, b) ; rien n’a encore été effacé. Si vous demandez ici l’effacement, nous l’enregistrons maintenant et effaçons vos données le lendemain du dernier jour de votre contrat (${eraseOn ? `le ${eraseOn}` : 'dès qu’il est résilié ; résiliez-le par écrit, par e-mail ou par téléphone'}) ; vous ne devez pas le redemander. Ce que la loi nous oblige à conserver, comme vos factures, reste conservé.`
        : `Vos données sont conservées pour une action en justice (RGPD art. 17, par. 3, e), ${until ? `jusqu’au ${until}` : claim === 'collection' ? 'jusqu’à ce que la facture impayée confiée au recouvrement soit payée ou son recouvrement clôturé' : 'jusqu’au règlement du litige sur votre facture'}. D’ici là, nous ne pouvons pas effacer votre compte ; rien n’a été effacé. Vous pourrez le demander à nouveau ensuite.`,
    deferConfirm: 'Oui, effacez mon compte le lendemain du dernier jour de mon contrat',
    deferSubmit: 'Demander l’effacement',
    deferred: (lastDay, eraseOn) =>
      lastDay && eraseOn
        ? `Votre demande d’effacement de votre compte est enregistrée. Nous effaçons vos données le ${eraseOn}, le lendemain du dernier jour de votre contrat (${lastDay}). Vous recevez par e-mail une lettre indiquant ce qui est effacé et ce qui est encore conservé.`
        : 'Votre demande d’effacement de votre compte est enregistrée. Votre contrat n’a pas de date de fin : nous effaçons vos données le lendemain de son dernier jour, dès qu’il est résilié. Vous recevez par e-mail une lettre indiquant ce qui est effacé et ce qui est encore conservé.',
  },
  myRequests: { title: 'Mes demandes', none: 'Vous n’avez encore fait aucune demande.' },
  report: {
    title: 'Signaler un abus ou une faille',
    intro:
      "Vous avez constaté que vos données ou celles d'une autre personne sont utilisées abusivement, ou qu'elles ne sont pas en sécurité ? Signalez-le ici. Vous ne devez pas vous identifier ; n'indiquez ni mot de passe, ni numéro de registre national ou de compte.",
    kind: 'Que voulez-vous signaler ?',
    misuse: 'Un abus de données personnelles',
    insecurity: 'Une situation non sécurisée (par exemple une fuite)',
    description: "Que s'est-il passé ?",
    descriptionHint: 'Au moins 10 caractères. Décrivez ce que vous avez vu, où et quand.',
    noticedOn: "Quand l'avez-vous constaté ?",
    noticedOnHint: "Laissez vide si c'était aujourd'hui.",
    submit: 'Envoyer le signalement',
    received: 'Merci. Votre signalement est bien reçu ; notre responsable de la vie privée l’examine.',
    invalid: 'Choisissez le type de signalement et décrivez ce qui s’est passé (au moins 10 caractères).',
    sensitive:
      'Votre signalement semble contenir des données sensibles (comme un numéro de compte ou de registre national). Retirez-les.',
    link: 'Signaler un abus ou une faille',
  },
  dossier: {
    title: 'Mon dossier technique',
    intro:
      'Ce que nos techniciens tiennent à jour sur vos appareils, comptes et réseau. Les mots de passe sont chiffrés et masqués ; vous pouvez afficher ici les vôtres, et cela est enregistré.',
    empty: 'Votre dossier technique est vide.',
    assets: 'Appareils',
    credentials: 'Comptes et mots de passe',
    facts: 'Réseau et licences',
    revealPassword: 'Afficher le mot de passe',
    revealTotp: 'Afficher la clé TOTP',
    revealed: 'Affiché à votre demande ; cela est enregistré',
    attachments: 'Pièces jointes',
    size: (bytes) => (bytes < 1024 ? `${bytes} octets` : `${Math.ceil(bytes / 1024)} ko`),
    kinds: {
      'application/pdf': 'document PDF',
      'image/png': 'image (PNG)',
      'image/jpeg': 'photo (JPEG)',
      'text/plain': 'fichier texte',
      other: 'fichier',
    },
    secretFile: 'Secret : le contenu est chiffré et masqué ; le téléchargement est enregistré.',
    download: 'Télécharger',
    revealFile: 'Télécharger le fichier secret',
    fields: {
      serial: 'Numéro de série',
      location: 'Emplacement',
      hostname: "Nom d'hôte",
      ipAddress: 'Adresse IP',
      url: 'Adresse',
      username: "Nom d'utilisateur",
      password: 'Mot de passe',
      totpSeed: 'Clé TOTP',
      value: 'Valeur',
      expiresOn: 'Expire le',
    },
  },
  consents: {
    title: 'Mes consentements',
    intro:
      'Ce que vous nous avez permis et ce à quoi vous vous êtes opposé. Un changement s’applique aussitôt.',
    states: {
      consented: 'vous avez donné votre consentement',
      withdrawn: 'vous avez retiré votre consentement',
      objected: 'vous vous êtes opposé',
      pending: 'en attente de votre confirmation par e-mail',
      none: 'aucun choix fait',
    },
    since: 'depuis le',
    give: 'Donner mon consentement',
    withdraw: 'Retirer mon consentement',
    object: 'M’opposer',
    marketingTitle: 'Marketing direct',
    marketingIntro:
      'Vous pouvez vous opposer gratuitement à toute utilisation de vos données à des fins de marketing direct.',
    marketingButton: 'Plus de marketing direct',
    marketingDone: 'Vous vous êtes opposé au marketing direct.',
    saved: 'Votre choix est enregistré.',
    dossierErased:
      'Suite à votre opposition, nous avons effacé votre dossier technique (appareils, réglages et mots de passe) ; nous n’en tenons plus.',
    noAddress:
      'Nous ne connaissons aucune adresse e-mail à laquelle confirmer votre inscription. Rien n’a été modifié ; inscrivez-vous avec le formulaire de la lettre d’information.',
    cookies: {
      title: 'Mes choix de cookies',
      intro:
        'Les choix faits dans le bandeau cookies ou sur la page des paramètres de cookies, dans le navigateur avec lequel vous vous êtes connecté ici. Ils ne sont liés à vous que depuis cette connexion.',
      none: 'Aucun choix de cookies n’est lié à vous. Si vous vous connectez dans un navigateur qui conserve un choix, il apparaîtra ici.',
      columns: { given: 'Fait le', choice: 'Choix', where: 'Où', until: 'Valable jusqu’au' },
      accepted: (categories) => `consentement aux cookies ${categories}`,
      onlyFunctional: 'uniquement les cookies fonctionnels',
      categories: { analytical: 'analytiques', tracking: 'de suivi' },
      sources: {
        banner: 'bandeau cookies',
        settings: 'paramètres de cookies',
        gpc: 'signal de votre navigateur (GPC)',
      },
      settingsLink: 'Modifier les paramètres de cookies',
    },
  },
  settings: {
    title: 'Langue et mot de passe',
    language: 'Langue de nos messages et de ce portail',
    languageSubmit: 'Enregistrer la langue',
    password: 'Nouveau mot de passe',
    passwordHint:
      '12 à 200 caractères ; pas un mot de passe courant ou divulgué, ni votre adresse e-mail ou notre nom',
    currentPassword: 'Mot de passe actuel',
    passwordSubmit: 'Enregistrer le mot de passe',
    saved: 'Enregistré.',
    passwordSaved:
      'Mot de passe enregistré. Toutes les autres sessions de votre compte ont été fermées : qui y était connecté doit se reconnecter.',
    passwordRefused: {
      password_too_short: 'Le nouveau mot de passe doit compter au moins 12 caractères.',
      password_too_long: 'Le nouveau mot de passe peut compter au plus 200 caractères.',
      password_repeated_character:
        'Le nouveau mot de passe ne peut pas être un élément court ou facile à deviner, répété (comme ababab… ou dragondragon…).',
      password_unchanged: 'Le nouveau mot de passe doit être différent de l’actuel.',
      password_context: 'Le nouveau mot de passe ne peut contenir ni votre adresse e-mail ni notre nom.',
      password_common:
        'Ce mot de passe est courant ou figure dans des listes de mots de passe divulgués (même avec des chiffres ou signes ajoutés). Choisissez-en un autre.',
      current_password_wrong: 'Le mot de passe actuel n’est pas correct.',
      password_changed_meanwhile:
        'Votre mot de passe a entre-temps déjà été modifié (dans une autre fenêtre ou par un double clic). Celui-ci n’a pas été enregistré ; connectez-vous avec celui qui l’a été.',
      current_password_required:
        'Indiquez votre mot de passe actuel. Oublié ? Demandez un lien de connexion par e-mail : peu après vous être connecté avec ce lien, vous pouvez choisir un nouveau mot de passe sans l’actuel.',
    },
  },
};

const en: PortalTexts = {
  languageName: 'English',
  skip: 'Skip to content',
  nav: {
    statement: 'Privacy statement',
    rights: 'Your rights',
    account: 'My account',
    languages: 'Language',
  },
  footer: (c) => `Privacy portal of ${c}`,
  statement: { contents: 'Contents', rightsLinks: 'Exercise a right' },
  rights: {
    title: 'Your rights',
    intro: 'Choose what you want to ask. We answer within the time the law gives us, free of charge.',
    names: {
      access: 'See your data',
      portability: 'Take your data with you',
      rectification: 'Have your data corrected',
      erasure: 'Have your data erased',
      restriction: 'Have the use of your data restricted',
      objection: 'Object',
      withdraw_consent: 'Withdraw your consent',
      object_direct_marketing: 'No more direct marketing',
    },
    explain: {
      access: 'You get everything we keep about you, with why, for how long and where it came from.',
      portability: 'You get your data in a file a computer can read, or we send it to another organisation.',
      rectification: 'If something is wrong, we correct it.',
      erasure:
        'We erase your data, except what the law obliges us to keep; you are told what and until when.',
      restriction: 'We keep your data but no longer use it.',
      objection: 'We stop using your data for our legitimate interests.',
      withdraw_consent: 'What you allowed us, we stop at once.',
      object_direct_marketing: 'You no longer receive advertising or newsletters from us.',
    },
    explainRestrictionExcept: (uses) => `We keep your data but no longer use it, except for: ${uses}.`,
    open: 'Go to the form',
    accountHint: 'Do you have an account? Log in: then no code is needed.',
  },
  form: {
    title: (right) => right,
    email: 'Your e-mail address',
    emailHint: 'The address we have for you. We send a code to it to confirm it is you.',
    purposes: 'For which purposes?',
    purposesHint: 'If you choose none, it applies to all purposes below.',
    transferTo: 'Send to another organisation (optional)',
    transferToHint:
      'The https address that organisation gave you. Leave empty to download the data yourself.',
    fields: 'What needs correcting?',
    fieldsHint:
      'Fill in only what is wrong; for a new address, street, postcode and town together. As soon as you enter the code, we correct it.',
    fieldNames: {
      givenName: 'First name',
      familyName: 'Last name',
      email: 'E-mail address',
      phone: 'Phone number',
      street: 'Street and number',
      postalCode: 'Postcode',
      city: 'Town',
    },
    submit: 'Send request',
    required: 'required',
    errorTitle: 'Something went wrong',
    invalid: {
      email: 'Enter a valid e-mail address.',
      corrections: 'Fill in at least one field; for a new address, street, postcode and town together.',
      transferTo: 'We cannot use this address: give the organisation’s https address, or leave it empty.',
    },
    expired: 'The form has expired. Please try again.',
  },
  confirm: {
    title: 'Enter the code',
    sent: 'If we know this e-mail address, we sent a six-digit code to it. The code is valid for 15 minutes.',
    code: 'Code from the e-mail',
    codeHint: 'Six digits',
    submit: 'Confirm',
    wrong: 'The code is wrong or no longer valid.',
    tooMany: 'Too many attempts. Wait a moment and try again.',
  },
  status: {
    title: 'Status of your request',
    kind: 'Request',
    state: 'Status',
    received: 'Received on',
    due: 'Answer by',
    states: {
      awaiting_verification: 'waiting for your code',
      verified: 'confirmed, being handled',
      fulfilled: 'carried out',
      rejected: 'rejected',
    },
    next: {
      awaiting_verification: 'Enter the code from the e-mail to confirm your request.',
      verified: 'Our staff are handling your request. You will get an e-mail when it is done.',
      fulfilled: 'We sent you an e-mail with the result.',
      rejected: 'We sent you an e-mail with the reason.',
    },
    erasureWaits: (on) =>
      on
        ? `answered: we erase your data on ${on}`
        : 'answered: we erase your data on the day after your contract ends',
    downloadMailed:
      'The link to download your data is in the e-mail we sent you. It works for 7 days, for one complete download; an interrupted download can be started again (up to 3 times).',
    keep: 'Keep the address of this page to check the status later.',
  },
  errors: {
    notFound: 'This page does not exist or has expired.',
    generic: 'Something went wrong. Please try again later.',
    back: 'Back',
    forbidden: 'This form has expired or did not come from this site. Please try again.',
    tooMany: 'Too many attempts. Wait a moment and try again.',
    exportRunning: 'A download of your data is already running. Wait until it has finished, then try again.',
    exportsBusy: 'Many downloads are being made right now. Try again in a moment.',
    refused:
      'This choice does not exist (any more) or cannot be made here. Nothing was changed; reload the page and choose again.',
  },
  mail: {
    codeIntro: 'To confirm it is you, enter this code on the page "Enter the code":',
    codeLink: 'This link opens that page:',
  },
  account: {
    title: 'My account',
    loginTitle: 'Log in',
    linkIntro: 'We send a login link to your e-mail address. It works once, for 15 minutes.',
    linkSubmit: 'Send me a login link',
    linkSent: 'If we know this e-mail address, a login link is now in your mailbox.',
    passwordIntro: 'Or log in with your password.',
    password: 'Password',
    passwordSubmit: 'Log in',
    loginFailed: 'Unknown account, wrong password or expired link.',
    logout: 'Log out',
    home: 'Overview',
    sections: {
      data: 'My data',
      correct: 'Correct my data',
      erase: 'Erase my account',
      requests: 'My requests',
      settings: 'Language and password',
      downloads: 'Download',
    },
    homeIntro: 'Here you see and manage what we keep about you.',
  },
  data: {
    title: 'My data',
    tableNames: {
      cookie_choices_of_subjects: 'Cookie choices: the choices you made',
      cookie_consent_links: 'Cookie choices: the browsers linked to you',
    },
    intro:
      'Everything we keep about you, by kind of data: what for, on what basis, shared with whom, for how long and from where.',
    category: 'Data',
    purposes: 'What for',
    basis: (basis) => `on the basis of ${basis}`,
    recipients: 'Shared with',
    retention: 'For how long',
    source: 'From where',
    fromYou: 'from you, or from your use of our services',
    noRecipients: 'nobody',
    values: 'What we keep',
    rows: (n) => (n === 1 ? '1 line' : `${n} lines`),
    previous: 'Previous',
    next: 'Next',
    month: 'Month',
    page: (p, n) => `Page ${p} of ${n}`,
    downloadJson: 'Download everything (JSON)',
    downloadZip: 'Download everything (ZIP with JSON and CSV)',
    withheld: 'Not shown, to protect your account: password and code data.',
    consulted: 'Who consulted your data',
    consultedNone: 'Nobody yet.',
    consultedMore: (shown, total) =>
      `The ${shown} most recent of ${total} lines; the full list is in the download.`,
  },
  correct: {
    title: 'Correct my data',
    intro: 'Correct what is wrong. We do not keep the old value.',
    submit: 'Save',
    done: 'Your data has been corrected.',
    corrected: (fields) => `Your data has been corrected. Changed: ${fields}.`,
    unchanged: 'Nothing was corrected: you did not change any field.',
    invalid: (fields) =>
      `Nothing was corrected: please check ${fields}. An address needs street, postcode and town together; a phone number must be complete.`,
    sensitive:
      'Nothing was corrected: what you entered seems to hold data we may not keep here (such as a national register or account number).',
  },
  oneTime: {
    loginTitle: 'Log in with your link',
    loginIntro: 'Press the button to log in. The link works once, for 15 minutes.',
    loginSubmit: 'Log in',
    downloadTitle: 'Download your data',
    downloadIntro:
      'Press the button to download the file with your data. The link works for 7 days, for one complete download; an interrupted download can be started again (up to 3 times).',
    downloadSubmit: 'Download',
    downloadGone: 'This link is unknown, used or expired. File a new request to get your data.',
    shareTitle: 'Shared by our technician',
    shareIntro: (what, until) =>
      `Our technician shares this with you: ${what}. Press the button to show it. The link works once, until ${until}.`,
    shareSubmit: 'Show',
    shareOnce: 'This link is now used: copy the value now, it is not shown again.',
    shareGone: 'This link is unknown, used or expired. Ask our technician for a new one.',
  },
  erase: {
    title: 'Erase my account',
    intro: 'We erase all your data at once, except what the law obliges us to keep.',
    kept: 'What we still have to keep, why and until when:',
    nothingKept: 'We do not have to keep anything: everything is erased.',
    keptItem: (what, why, until) => `${what}: ${why}. Until: ${until}.`,
    confirm: 'Yes, erase my account',
    submit: 'Erase account',
    done: 'Your account has been erased. You will get a letter by e-mail saying what was erased and what is still kept.',
    letter: 'Erasure cannot be undone.',
    held: (until, claim, eraseOn) =>
      claim === 'contract'
        ? `You have a contract with us that still runs (${until ? `until ${until}` : 'without an end date'}). While it runs, we need your data to provide and bill that service (GDPR Art. 6(1)(b)); nothing has been erased yet. If you ask for the erasure here, we record it now and erase your data on the day after your contract's last day (${eraseOn ? `on ${eraseOn}` : 'once it is terminated; terminate it in writing, by e-mail or by phone'}); you do not need to ask again. What the law obliges us to keep, such as your invoices, is kept.`
        : `Your data are kept for a legal claim (GDPR Art. 17(3)(e)) ${until ? `until ${until}` : claim === 'collection' ? 'until the unpaid invoice we handed over for collection is paid or its collection is closed' : 'until the dispute about your invoice is settled'}. Until then we cannot erase your account; nothing has been erased. You may ask again afterwards.`,
    deferConfirm: "Yes, erase my account on the day after my contract's last day",
    deferSubmit: 'Ask for the erasure',
    deferred: (lastDay, eraseOn) =>
      lastDay && eraseOn
        ? `Your request to erase your account is recorded. We erase your data on ${eraseOn}, the day after your contract's last day (${lastDay}). You will get a letter by e-mail saying what was erased and what is still kept.`
        : 'Your request to erase your account is recorded. Your contract has no end date: we erase your data on the day after its last day, once it is terminated. You will get a letter by e-mail saying what was erased and what is still kept.',
  },
  myRequests: { title: 'My requests', none: 'You have not made any requests yet.' },
  report: {
    title: 'Report misuse or a security problem',
    intro:
      "Did you notice that your data or someone else's is being misused, or is not safe? Report it here. You need not say who you are; do not put passwords, national register or account numbers in your report.",
    kind: 'What do you want to report?',
    misuse: 'Misuse of personal data',
    insecurity: 'Something unsafe (for example a leak)',
    description: 'What happened?',
    descriptionHint: 'At least 10 characters. Describe what you saw, where and when.',
    noticedOn: 'When did you notice it?',
    noticedOnHint: 'Leave empty if it was today.',
    submit: 'Send the report',
    received: 'Thank you. Your report has been received; our privacy officer will look at it.',
    invalid: 'Choose what you report and describe what happened (at least 10 characters).',
    sensitive:
      'Your report seems to contain sensitive data (such as an account or national register number). Please leave it out.',
    link: 'Report misuse or a security problem',
  },
  dossier: {
    title: 'My technical dossier',
    intro:
      'What our technicians keep about your devices, accounts and network. Passwords are encrypted and hidden; you can show your own here, and that is recorded.',
    empty: 'Your technical dossier is empty.',
    assets: 'Devices',
    credentials: 'Accounts and passwords',
    facts: 'Network and licences',
    revealPassword: 'Show password',
    revealTotp: 'Show TOTP key',
    revealed: 'Shown at your request; this is recorded',
    attachments: 'Attachments',
    size: (bytes) => (bytes < 1024 ? `${bytes} bytes` : `${Math.ceil(bytes / 1024)} kB`),
    kinds: {
      'application/pdf': 'PDF document',
      'image/png': 'image (PNG)',
      'image/jpeg': 'photo (JPEG)',
      'text/plain': 'text file',
      other: 'file',
    },
    secretFile: 'Secret: the content is encrypted and hidden; downloading it is recorded.',
    download: 'Download',
    revealFile: 'Download secret file',
    fields: {
      serial: 'Serial number',
      location: 'Location',
      hostname: 'Host name',
      ipAddress: 'IP address',
      url: 'Address',
      username: 'User name',
      password: 'Password',
      totpSeed: 'TOTP key',
      value: 'Value',
      expiresOn: 'Expires on',
    },
  },
  consents: {
    title: 'My consents',
    intro: 'What you allowed us and what you objected to. A change applies at once.',
    states: {
      consented: 'you gave your consent',
      withdrawn: 'you withdrew your consent',
      objected: 'you objected',
      pending: 'waiting for your confirmation by e-mail',
      none: 'no choice made',
    },
    since: 'since',
    give: 'Give consent',
    withdraw: 'Withdraw consent',
    object: 'Object',
    marketingTitle: 'Direct marketing',
    marketingIntro: 'You can object, free of charge, to any use of your data for direct marketing.',
    marketingButton: 'No more direct marketing',
    marketingDone: 'You objected to direct marketing.',
    saved: 'Your choice has been saved.',
    dossierErased:
      'With your objection we erased your technical dossier (devices, settings and passwords); we no longer keep one.',
    noAddress:
      'We know no e-mail address of yours to confirm the subscription at. Nothing was changed; sign up with the newsletter form.',
    cookies: {
      title: 'My cookie choices',
      intro:
        'The choices you made in the cookie banner or on the cookie settings, in the browser you logged in here with. They have been linked to you only since that login.',
      none: 'No cookie choice is linked to you. Log in from a browser that keeps a choice, and it will show here.',
      columns: { given: 'Made on', choice: 'Choice', where: 'Where', until: 'Valid until' },
      accepted: (categories) => `consent to ${categories} cookies`,
      onlyFunctional: 'functional cookies only',
      categories: { analytical: 'analytical', tracking: 'tracking' },
      sources: { banner: 'cookie banner', settings: 'cookie settings', gpc: 'your browser’s signal (GPC)' },
      settingsLink: 'Change cookie settings',
    },
  },
  settings: {
    title: 'Language and password',
    language: 'Language of our messages and of this portal',
    languageSubmit: 'Save language',
    password: 'New password',
    passwordHint:
      '12 to 200 characters; not a common or breached password, not your e-mail address or our name',
    currentPassword: 'Current password',
    passwordSubmit: 'Save password',
    saved: 'Saved.',
    passwordSaved:
      'Password saved. Every other session of your account has been logged out: whoever was logged in there must log in again.',
    passwordRefused: {
      password_too_short: 'The new password must be at least 12 characters long.',
      password_too_long: 'The new password may be at most 200 characters long.',
      password_repeated_character:
        'The new password must not be a short or easily guessed part repeated (like ababab… or dragondragon…).',
      password_unchanged: 'The new password must differ from the current one.',
      password_context: 'The new password must not contain your e-mail address or our name.',
      password_common:
        'This password is commonly used or appears in lists of breached passwords (also with digits or symbols added). Choose another one.',
      current_password_wrong: 'The current password is not right.',
      password_changed_meanwhile:
        'Your password was changed meanwhile (in another window or by a double click). This one was not saved; log in with the one that was.',
      current_password_required:
        'Give your current password. Forgotten it? Ask for a login link by e-mail: shortly after logging in with that link you can choose a new password without the current one.',
    },
  },
};

export const PORTAL_TEXTS: Record<Language, PortalTexts> = { nl, fr, en };

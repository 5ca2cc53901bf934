import { createHash } from 'node:crypto';
import type { Cookie, Language } from '../../kernel/policy/index.js';
import { canonicalJson } from '../../kernel/policy/index.js';

/**
 * The banner's and the cookie-settings page's own words. What the cookies are, who sets them, for
 * how long and why comes from the policy; these texts only frame it. Their hash is the banner text
 * version recorded with every receipt.
 */
export interface BannerTexts {
  title: string;
  intro: string;
  accept: string;
  refuse: string;
  save: string;
  details: string;
  hideDetails: string;
  close: string;
  choose: string;
  settingsLink: string;
  settingsTitle: string;
  alwaysOn: string;
  categories: Record<Cookie['category'], { label: string; description: string }>;
  columns: { name: string; provider: string; lifetime: string; purpose: string };
  consentId: string;
  noChoice: string;
  gpc: string;
  saved: string;
  error: string;
  current: (categories: string) => string;
  none: string;
  history: string;
  given: string;
  policyVersion: string;
  sourceColumn: string;
  source: Record<'banner' | 'settings' | 'gpc', string>;
  back: string;
  statement: string;
}

const nl: BannerTexts = {
  title: 'Cookies op deze website',
  intro:
    'Wij gebruiken functionele cookies om de website te laten werken. Andere cookies plaatsen wij alleen als u dat wilt. U kunt per soort kiezen en uw keuze altijd wijzigen via de cookie-instellingen.',
  accept: 'Alles aanvaarden',
  refuse: 'Alles weigeren',
  save: 'Mijn keuze bewaren',
  details: 'Details per cookie',
  hideDetails: 'Details verbergen',
  close: 'Sluiten',
  choose: 'Kies per soort cookie',
  settingsLink: 'Cookie-instellingen',
  settingsTitle: 'Uw cookie-instellingen',
  alwaysOn: 'altijd aan',
  categories: {
    functional: {
      label: 'Functioneel',
      description: 'Nodig om de website te laten werken en uw keuzes te onthouden.',
    },
    analytical: {
      label: 'Analytisch',
      description: 'Meten hoe de website gebruikt wordt, om ze te verbeteren.',
    },
    tracking: {
      label: 'Tracking',
      description: 'Uw surfgedrag volgen om de inhoud van de website op u af te stemmen.',
    },
  },
  columns: { name: 'Cookie', provider: 'Van', lifetime: 'Bewaard', purpose: 'Doel' },
  consentId: 'Uw toestemmingsnummer',
  noChoice: 'Er is voor dit nummer nog geen keuze bewaard.',
  gpc: 'Uw browser vraagt met Global Privacy Control om niet gevolgd te worden: wij plaatsen geen andere dan functionele cookies, tenzij u hier zelf toestemming geeft.',
  saved: 'Uw keuze is bewaard.',
  error: 'Uw keuze kon niet bewaard worden. Probeer het opnieuw.',
  current: (categories) => `U gaf toestemming voor: ${categories}.`,
  none: 'U gaf geen toestemming voor andere dan functionele cookies.',
  history: 'Uw eerdere keuzes',
  given: 'Tijdstip',
  policyVersion: 'Versie van het cookiebeleid',
  sourceColumn: 'Gekozen via',
  source: { banner: 'cookiebanner', settings: 'cookie-instellingen', gpc: 'Global Privacy Control' },
  back: 'Terug naar de website',
  statement: 'Privacyverklaring',
};

const fr: BannerTexts = {
  title: 'Cookies sur ce site',
  intro:
    'Nous utilisons des cookies fonctionnels pour faire fonctionner le site. Nous ne plaçons les autres cookies que si vous le souhaitez. Vous pouvez choisir par type et modifier votre choix à tout moment via les paramètres de cookies.',
  accept: 'Tout accepter',
  refuse: 'Tout refuser',
  save: 'Enregistrer mon choix',
  details: 'Détails par cookie',
  hideDetails: 'Masquer les détails',
  close: 'Fermer',
  choose: 'Choisissez par type de cookie',
  settingsLink: 'Paramètres de cookies',
  settingsTitle: 'Vos paramètres de cookies',
  alwaysOn: 'toujours actifs',
  categories: {
    functional: {
      label: 'Fonctionnels',
      description: 'Nécessaires au fonctionnement du site et à la mémorisation de vos choix.',
    },
    analytical: { label: 'Analytiques', description: "Mesurer l'utilisation du site pour l'améliorer." },
    tracking: {
      label: 'Traçage',
      description: 'Suivre votre navigation pour adapter à vous le contenu du site.',
    },
  },
  columns: { name: 'Cookie', provider: 'De', lifetime: 'Conservé', purpose: 'Finalité' },
  consentId: 'Votre numéro de consentement',
  noChoice: "Aucun choix n'est encore enregistré pour ce numéro.",
  gpc: 'Votre navigateur demande de ne pas être suivi (Global Privacy Control) : nous ne plaçons que des cookies fonctionnels, sauf si vous donnez ici votre consentement.',
  saved: 'Votre choix est enregistré.',
  error: "Votre choix n'a pas pu être enregistré. Veuillez réessayer.",
  current: (categories) => `Vous avez consenti à : ${categories}.`,
  none: "Vous n'avez consenti à aucun cookie autre que fonctionnel.",
  history: 'Vos choix précédents',
  given: 'Moment',
  policyVersion: 'Version de la politique de cookies',
  sourceColumn: 'Choisi via',
  source: { banner: 'bannière de cookies', settings: 'paramètres de cookies', gpc: 'Global Privacy Control' },
  back: 'Retour au site',
  statement: 'Déclaration de confidentialité',
};

const en: BannerTexts = {
  title: 'Cookies on this website',
  intro:
    'We use functional cookies to make the website work. We set other cookies only if you want us to. You can choose per type and change your choice at any time in the cookie settings.',
  accept: 'Accept all',
  refuse: 'Refuse all',
  save: 'Save my choice',
  details: 'Details per cookie',
  hideDetails: 'Hide details',
  close: 'Close',
  choose: 'Choose per type of cookie',
  settingsLink: 'Cookie settings',
  settingsTitle: 'Your cookie settings',
  alwaysOn: 'always on',
  categories: {
    functional: {
      label: 'Functional',
      description: 'Needed to make the website work and remember your choices.',
    },
    analytical: { label: 'Analytical', description: 'Measuring how the website is used, to improve it.' },
    tracking: {
      label: 'Tracking',
      description: 'Following your browsing to tailor the website’s content to you.',
    },
  },
  columns: { name: 'Cookie', provider: 'Set by', lifetime: 'Kept', purpose: 'Purpose' },
  consentId: 'Your consent number',
  noChoice: 'No choice has been saved for this number yet.',
  gpc: 'Your browser asks not to be tracked (Global Privacy Control): we set only functional cookies, unless you give consent here yourself.',
  saved: 'Your choice has been saved.',
  error: 'Your choice could not be saved. Please try again.',
  current: (categories) => `You consented to: ${categories}.`,
  none: 'You did not consent to any cookies other than functional ones.',
  history: 'Your earlier choices',
  given: 'Time',
  policyVersion: 'Cookie policy version',
  sourceColumn: 'Chosen in',
  source: { banner: 'cookie banner', settings: 'cookie settings', gpc: 'Global Privacy Control' },
  back: 'Back to the website',
  statement: 'Privacy statement',
};

export const BANNER_TEXTS: Record<Language, BannerTexts> = { nl, fr, en };

/** The banner text version: a hash of every language's words (functions rendered with a marker). */
export const BANNER_VERSION = createHash('sha256')
  .update(
    canonicalJson(
      Object.fromEntries(
        Object.entries(BANNER_TEXTS).map(([lang, texts]) => [
          lang,
          { ...texts, current: texts.current('{categories}') },
        ]),
      ),
    ),
  )
  .digest('hex')
  .slice(0, 12);

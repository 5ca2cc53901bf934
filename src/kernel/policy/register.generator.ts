import { csvRecord } from '../../platform/csv.js';
/**
 * The record of processing activities (GDPR Art. 30(1)) generated from the policy: one row per
 * purpose, with its categories, subjects, recipients, transfers, retention and security measures.
 */
import { formatEnterpriseNumber } from '../identifiers/enterprise-number.js';
import { renderMarkdown } from './document.render.js';
import type { Block, TextDocument } from './document.render.js';
import type { Language, Policy } from './policy.schema.js';
import { isWithinRegion, legalHoldsFor, recipientsForPurpose } from './policy.query.js';
import { controllerDisplayName, formatAddress, formatDate } from './statement.generator.js';
import { STATEMENT_TEXTS } from './statement.texts.js';

export type RegisterFormat = 'csv' | 'md';

export interface RegisterRow {
  purposeKey: string;
  purpose: string;
  legalBasis: string;
  subjectTypes: string;
  categories: string;
  roles: string;
  recipients: string;
  transfers: string;
  retention: string;
  legalHolds: string;
  securityMeasures: string;
}

const COLUMNS: Record<Language, Record<keyof RegisterRow, string>> = {
  nl: {
    purposeKey: 'Sleutel',
    purpose: 'Doeleinde',
    legalBasis: 'Rechtsgrond',
    subjectTypes: 'Betrokkenen',
    categories: 'Categorieën persoonsgegevens',
    roles: 'Rollen met toegang',
    recipients: 'Ontvangers',
    transfers: 'Doorgifte buiten de EER',
    retention: 'Bewaartermijn',
    legalHolds: 'Wettelijke bewaarplicht',
    securityMeasures: 'Beveiligingsmaatregelen',
  },
  fr: {
    purposeKey: 'Clé',
    purpose: 'Finalité',
    legalBasis: 'Base juridique',
    subjectTypes: 'Personnes concernées',
    categories: 'Catégories de données',
    roles: 'Rôles ayant accès',
    recipients: 'Destinataires',
    transfers: "Transferts hors de l'EEE",
    retention: 'Durée de conservation',
    legalHolds: 'Obligation légale de conservation',
    securityMeasures: 'Mesures de sécurité',
  },
  en: {
    purposeKey: 'Key',
    purpose: 'Purpose',
    legalBasis: 'Legal basis',
    subjectTypes: 'Data subjects',
    categories: 'Categories of personal data',
    roles: 'Roles with access',
    recipients: 'Recipients',
    transfers: 'Transfers outside the EEA',
    retention: 'Retention',
    legalHolds: 'Legal holds',
    securityMeasures: 'Security measures',
  },
};

const NONE: Record<Language, string> = { nl: 'geen', fr: 'aucun', en: 'none' };
const TITLE: Record<Language, string> = {
  nl: 'Register van verwerkingsactiviteiten (art. 30 AVG)',
  fr: 'Registre des activités de traitement (art. 30 RGPD)',
  en: 'Record of processing activities (GDPR Art. 30)',
};
const CONTROLLER: Record<Language, string> = {
  nl: 'Verwerkingsverantwoordelijke',
  fr: 'Responsable du traitement',
  en: 'Controller',
};
const POLICY_VERSION: Record<Language, string> = {
  nl: 'Beleidsversie',
  fr: 'Version de la politique',
  en: 'Policy version',
};

/** One row per purpose, in the policy's order; cells are plain text, lists joined with "; ". */
export function buildRegisterRows(policy: Policy, lang: Language): RegisterRow[] {
  const t = STATEMENT_TEXTS[lang];
  const label = (text: { nl: string; fr: string; en: string }): string => text[lang];
  const join = (items: readonly string[]): string => (items.length === 0 ? NONE[lang] : items.join('; '));
  const security = policy.security.measures.map((m) => label(m.label));

  return Object.entries(policy.purposes).map(([key, purpose]): RegisterRow => {
    const recipients = recipientsForPurpose(policy, key);
    const transfers = recipients
      .filter(({ recipient }) => !isWithinRegion(recipient.country, 'EEA'))
      .map(({ recipient }) => {
        const safeguard =
          recipient.transferSafeguard === undefined
            ? ''
            : ` (${t.sharing.safeguards[recipient.transferSafeguard]})`;
        return `${label(recipient.label)}, ${recipient.country}${safeguard}`;
      });
    const holds = purpose.categories.flatMap((category) =>
      legalHoldsFor(policy, category).map(({ hold }) => hold),
    );
    const rule = policy.retentionRules[purpose.retention];
    return {
      purposeKey: key,
      purpose: label(purpose.label),
      legalBasis: `${t.legalBases[purpose.legalBasis]} (${purpose.legalBasis})`,
      subjectTypes: join(purpose.subjectTypes.map((s) => policy.subjectTypes[s]?.label[lang] ?? s)),
      categories: join(purpose.categories.map((c) => `${policy.categories[c]?.label[lang] ?? c} [${c}]`)),
      roles: join(purpose.roles.map((r) => policy.roles[r]?.label[lang] ?? r)),
      recipients: join(
        recipients.map(({ recipient }) => {
          const agreement =
            recipient.agreement === undefined
              ? ''
              : `, ${recipient.agreement.reference} ${recipient.agreement.date}`;
          return `${label(recipient.label)} (${t.sharing.kinds[recipient.kind]}, ${recipient.country}${agreement})`;
        }),
      ),
      transfers: join(transfers),
      retention: rule === undefined ? purpose.retention : t.retention.rule(rule),
      legalHolds: join(
        [...new Set(holds)].map((hold) => {
          const holdRule = policy.retentionRules[hold.retention];
          return `${label(hold.label)} (${hold.legalReference})${holdRule === undefined ? '' : `: ${t.retention.rule(holdRule)}`}`;
        }),
      ),
      securityMeasures: join(security),
    };
  });
}

export interface RegisterOptions {
  format?: RegisterFormat;
  /** Defaults to the policy's first statement language. */
  lang?: Language;
}

export function generateRegister(policy: Policy, options: RegisterOptions = {}): string {
  const lang = options.lang ?? policy.statement.languages[0] ?? 'en';
  if ((options.format ?? 'csv') === 'csv') {
    const rows = buildRegisterRows(policy, lang);
    const columns = COLUMNS[lang];
    const keys = Object.keys(columns) as Array<keyof RegisterRow>;
    return [keys.map((k) => columns[k]), ...rows.map((row) => keys.map((k) => row[k]))]
      .map((cells) => csvRecord(cells))
      .join('');
  }
  return renderMarkdown(buildRegisterDocument(policy, lang));
}

/**
 * The register as a document of plain-text blocks (heading, paragraphs, one table): what the
 * Markdown is rendered from, and what the back office draws itself, so no markup is parsed there.
 */
export function buildRegisterDocument(policy: Policy, lang: Language): TextDocument {
  const rows = buildRegisterRows(policy, lang);
  const columns = COLUMNS[lang];
  const keys = Object.keys(columns) as Array<keyof RegisterRow>;
  const c = policy.controller;
  const blocks: Block[] = [
    { kind: 'heading', level: 1, text: TITLE[lang] },
    {
      kind: 'paragraph',
      text: `${CONTROLLER[lang]}: ${controllerDisplayName(policy)}, ${formatAddress(c.address)}, ${formatEnterpriseNumber(c.enterpriseNumber)}, ${c.privacyContact.email}`,
    },
    {
      kind: 'paragraph',
      text: `${POLICY_VERSION[lang]}: ${policy.statement.version} (${formatDate(policy.statement.effectiveDate, lang)})`,
    },
    { kind: 'table', header: keys.map((k) => columns[k]), rows: rows.map((row) => keys.map((k) => row[k])) },
  ];
  return { lang, title: TITLE[lang], blocks };
}

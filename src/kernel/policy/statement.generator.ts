/**
 * Generates the public privacy statement from a validated policy: the wording comes from
 * statement.texts.ts, every fact from the policy, so the two cannot disagree.
 */
import { longDate } from '../../platform/calendar.js';
import { formatEnterpriseNumber } from '../identifiers/enterprise-number.js';
import { renderDocument } from './document.render.js';
import type { Block, DocumentFormat, TextDocument } from './document.render.js';
import { CATEGORY_GROUPS, LEGAL_BASES } from './policy.schema.js';
import type { Channel, Language, Policy, RetentionRule } from './policy.schema.js';
import { consentLifetime, receiptRetentionMonths } from './cookie-retention.js';
import { restrictionExemptPurposes } from './policy.query.js';
import { COOKIE_CHOICES_CATEGORY, type EnforcedPromises } from './promises.js';
import { STATEMENT_TEXTS } from './statement.texts.js';
import type { StatementTexts } from './statement.texts.js';

export interface StatementOptions {
  lang: Language;
  format?: DocumentFormat;
  /** The promises a module of this installation keeps; the statement makes no other (promises.ts). */
  enforced: EnforcedPromises;
}

/** The statement as Markdown (default) or a complete HTML page. */
export function generateStatement(policy: Policy, options: StatementOptions): string {
  return renderDocument(buildStatement(policy, options.lang, options.enforced), options.format ?? 'md');
}

export function controllerDisplayName(policy: Policy): string {
  return `${policy.controller.legalName} ${policy.controller.legalForm}`;
}

export function formatAddress(address: Policy['controller']['address']): string {
  return `${address.street}, ${address.postalCode} ${address.city}`;
}

/** A day in words ("22 November 2026"): the platform's one formatter (platform/calendar.ts). */
export function formatDate(isoDate: string, lang: Language): string {
  return longDate(isoDate, lang);
}

export function joinList(items: readonly string[], lang: Language): string {
  return new Intl.ListFormat(lang, { type: 'conjunction' }).format(items);
}

/** Labels may contain commas themselves, so lists of them are joined with semicolons. */
function joinLabels(items: readonly string[]): string {
  return items.join('; ');
}

/**
 * The uses a restriction leaves (the purposes the gate still lets read a restricted person), by
 * their labels as the purposes section names them; `undefined` when there are none, so the
 * statement and the portal promise only what the gate does (decision 0902).
 */
export function describeRestrictionExemptions(policy: Policy, lang: Language): string | undefined {
  const labels = restrictionExemptPurposes(policy).map(({ purpose }) => purpose.label[lang]);
  return labels.length === 0 ? undefined : joinLabels(labels);
}

function describeChannel(channel: Channel, policy: Policy, t: StatementTexts): string {
  // A letter without an address goes to the controller's.
  const address =
    channel.kind === 'post' && channel.address === undefined
      ? `${controllerDisplayName(policy)}, ${formatAddress(policy.controller.address)}`
      : channel.address;
  const text = t.channels[channel.kind](address);
  if (channel.kind === 'customer_service' && policy.controller.phone !== undefined) {
    return `${text} (${policy.controller.phone})`;
  }
  return text;
}

function describeChannels(channels: readonly Channel[], policy: Policy, lang: Language): string {
  const t = STATEMENT_TEXTS[lang];
  return joinAlternatives(
    channels.map((channel) => describeChannel(channel, policy, t)),
    lang,
  );
}

/** "a, b or c": any one of several ways will do. */
export function joinAlternatives(items: readonly string[], lang: Language): string {
  return new Intl.ListFormat(lang, { type: 'disjunction' }).format(items);
}

export function buildStatement(policy: Policy, lang: Language, enforced: EnforcedPromises): TextDocument {
  const t = STATEMENT_TEXTS[lang];
  // A retention period is stated only where code erases when it ends.
  const isRetentionKept = (rule: RetentionRule): boolean =>
    rule.kind === 'on_termination' ? enforced.has('dossier_erasure') : enforced.has('retention_sweeps');
  const name = controllerDisplayName(policy);
  const label = (text: { nl: string; fr: string; en: string }): string => text[lang];
  const categoryLabel = (key: string): string => {
    const category = policy.categories[key];
    return category === undefined ? key : label(category.label);
  };
  const blocks: Block[] = [];
  const h2 = (text: string): void => {
    blocks.push({ kind: 'heading', level: 2, text });
  };
  const p = (text: string): void => {
    blocks.push({ kind: 'paragraph', text });
  };
  const list = (items: string[]): void => {
    if (items.length > 0) blocks.push({ kind: 'list', items });
  };

  // Title and introduction.
  blocks.push({ kind: 'heading', level: 1, text: t.title(name) });
  const subjects = joinList(
    Object.values(policy.subjectTypes).map((s) => label(s.label)),
    lang,
  );
  p(t.intro(name, subjects));
  p(t.generated);

  // Controller (VK-1 / VX-1).
  h2(t.headings.controller);
  const c = policy.controller;
  const controllerLines = [
    `${t.fields.name}: ${name}`,
    `${t.fields.address}: ${formatAddress(c.address)}`,
    `${t.fields.enterpriseNumber}: ${formatEnterpriseNumber(c.enterpriseNumber)}`,
  ];
  if (c.phone !== undefined) controllerLines.push(`${t.fields.phone}: ${c.phone}`);
  controllerLines.push(`${t.fields.email}: ${c.email}`);
  if (c.website !== undefined) controllerLines.push(`${t.fields.website}: ${c.website}`);
  const privacy = c.privacyContact;
  controllerLines.push(
    `${t.fields.privacyContact}: ${privacy.email}${privacy.phone === undefined ? '' : `, ${privacy.phone}`}`,
  );
  list(controllerLines);

  // Data categories, grouped as people think of them (VK-2, VK-3).
  h2(t.headings.data);
  p(t.dataIntro(name));
  const groupLines: string[] = [];
  for (const group of CATEGORY_GROUPS) {
    const labels = Object.values(policy.categories)
      .filter((category) => category.group === group)
      .map((category) => label(category.label));
    if (labels.length > 0) groupLines.push(`${t.categoryGroups[group]}: ${joinLabels(labels)}`);
  }
  list(groupLines);
  for (const category of Object.values(policy.categories)) {
    if (category.source !== undefined) p(t.source(label(category.label), label(category.source)));
  }

  // Purposes and legal bases (VK-4 / VX-2).
  h2(t.headings.purposes);
  const basesUsed = LEGAL_BASES.filter((basis) =>
    Object.values(policy.purposes).some((pp) => pp.legalBasis === basis),
  );
  p(
    t.legalBasesUsed(
      joinList(
        basesUsed.map((basis) => t.legalBases[basis]),
        lang,
      ),
    ),
  );
  p(t.purposesIntro);
  list(
    Object.values(policy.purposes).map((purpose) => {
      const rule = policy.retentionRules[purpose.retention];
      const parts = [
        `${capitalize(label(purpose.label))}.`,
        `${t.purpose.basis}: ${t.legalBases[purpose.legalBasis]}.`,
        `${t.purpose.data}: ${joinLabels(purpose.categories.map(categoryLabel))}.`,
      ];
      if (rule !== undefined && isRetentionKept(rule)) {
        parts.push(`${t.purpose.retention}: ${t.retention.rule(rule)}.`);
      }
      if (purpose.legalBasis === 'consent' && purpose.consent?.withdrawal !== undefined) {
        parts.push(t.purpose.withdraw(describeChannels(purpose.consent.withdrawal, policy, lang)));
      }
      if (purpose.marketing) parts.push(t.purpose.objectMarketing);
      else if (purpose.legalBasis === 'legitimate_interests') parts.push(t.purpose.objectLegitimate);
      return parts.join(' ');
    }),
  );

  // Newsletter rules (VK-17, VK-18, VK-19, VX-9).
  const newsletter = enforced.has('newsletter_consent') ? policy.newsletter : undefined;
  const isTrackingKept =
    policy.newsletter?.tracking?.opensAndClicks === true && enforced.has('email_tracking_consent');
  if (newsletter !== undefined) {
    h2(t.headings.newsletter);
    const subjectsOf = (keys: readonly string[]): string =>
      joinList(
        keys.map((key) => {
          const subject = policy.subjectTypes[key];
          return subject === undefined ? key : label(subject.label);
        }),
        lang,
      );
    p(t.newsletter.legitimate(subjectsOf(newsletter.legitimateInterest.subjectTypes)));
    if (newsletter.optIn === undefined) p(t.newsletter.noOptIn);
    else
      p(
        capitalize(
          t.newsletter.optIn(subjectsOf(newsletter.optIn.subjectTypes), newsletter.optIn.doubleOptIn),
        ),
      );
    p(t.newsletter.unsubscribe);
    if (isTrackingKept) p(t.newsletter.tracking);
  }

  // Security (VK-7, VK-8, VK-9, VX-4).
  h2(t.headings.security);
  p(t.security.intro(name));
  p(t.security.environment);
  const rolesWithAccess = Object.entries(policy.roles)
    .filter(([key]) => Object.values(policy.purposes).some((purpose) => purpose.roles.includes(key)))
    .map(([, role]) => label(role.label));
  p(t.security.roles(joinList(rolesWithAccess, lang)));
  list(
    policy.security.measures.map((m) => `${capitalize(label(m.label))}: ${joinLabels(m.items.map(label))}`),
  );
  p(t.security.misuse(describeChannels(policy.security.misuseReport, policy, lang)));
  if (policy.incidents !== undefined && enforced.has('incident_register')) p(t.security.incidents);

  // Retention (VK-13, VK-14, VX-7, VX-8, G-1): only the periods that code enforces.
  const retentionLines: string[] = [];
  let returnsOnRequest = false;
  for (const [key, rule] of Object.entries(policy.retentionRules)) {
    if (rule.kind === 'inherited' || !isRetentionKept(rule)) continue;
    const purposes = Object.values(policy.purposes).filter((purpose) => purpose.retention === key);
    if (purposes.length === 0) continue;
    const categories = unique(purposes.flatMap((purpose) => purpose.categories)).map(categoryLabel);
    retentionLines.push(
      `${capitalize(t.retention.rule(rule))} – ${t.retention.appliesTo(joinLabels(purposes.map((pp) => label(pp.label))))} (${joinLabels(categories)}).`,
    );
    if (rule.onExpiry === 'return_on_request_else_erase') returnsOnRequest = true;
  }
  if (retentionLines.length > 0) {
    h2(t.headings.retention);
    p(t.retention.intro);
    list(retentionLines);
  }
  if (returnsOnRequest) p(t.retention.returnOnRequest);
  for (const hold of enforced.has('retention_sweeps') ? Object.values(policy.legalHolds) : []) {
    const rule = policy.retentionRules[hold.retention];
    if (rule === undefined) continue;
    p(
      t.retention.hold(
        label(hold.label),
        hold.legalReference,
        joinLabels(hold.categories.map(categoryLabel)),
        t.retention.rule(rule),
      ),
    );
  }

  // Sharing and transfers (VK-10, VK-11, VK-12, VX-6).
  h2(t.headings.sharing);
  const recipients = Object.values(policy.recipients);
  if (recipients.length === 0) p(t.sharing.none);
  else {
    p(t.sharing.intro);
    if (enforced.has('disclosure_log')) p(t.sharing.logged);
    list(
      recipients.map((recipient) => {
        const where =
          recipient.country === 'EU' || recipient.country === 'EEA'
            ? t.sharing.region[recipient.country]
            : (new Intl.DisplayNames([lang], { type: 'region' }).of(recipient.country) ?? recipient.country);
        const parts = [
          `${capitalize(label(recipient.label))}${recipient.name === undefined ? '' : ` (${recipient.name})`} – ${t.sharing.kinds[recipient.kind]}, ${where}.`,
        ];
        if (recipient.condition !== undefined) parts.push(`${capitalize(label(recipient.condition))}.`);
        parts.push(`${capitalize(t.sharing.data)}: ${joinLabels(recipient.categories.map(categoryLabel))}.`);
        if (recipient.kind === 'processor') parts.push(`${capitalize(t.sharing.agreement)}.`);
        if (recipient.transferSafeguard !== undefined) {
          parts.push(
            `${capitalize(t.sharing.safeguard)}: ${t.sharing.safeguards[recipient.transferSafeguard]}.`,
          );
        }
        return parts.join(' ');
      }),
    );
    p(t.sharing.measures);
  }
  p(t.sharing.confidentiality);
  p(
    policy.transfers.allowSafeguardedTransfers
      ? t.sharing.safeguardedTransfers
      : t.sharing.noTransfers(policy.transfers.restrictTo),
  );

  // Cookies and similar techniques (VK-19, VK-20).
  h2(t.headings.cookies);
  const cookies = policy.cookies.items;
  if (cookies.length > 0) {
    const categoriesUsed = unique(cookies.map((cookie) => cookie.category)).map(
      (cat) => t.cookies.categories[cat],
    );
    p(t.cookies.used(joinList(categoriesUsed, lang)));
    p(t.cookies.what);
    const isConsentKept = policy.cookies.consentAtFirstVisit && enforced.has('cookie_consent');
    if (isConsentKept) p(t.cookies.consent);
    list(
      cookies.map((cookie) =>
        t.cookies.item(
          cookie.name,
          t.cookies.categories[cookie.category],
          cookie.provider,
          t.cookies.lifetime(cookie.lifetime),
          label(cookie.purpose),
        ),
      ),
    );
    if (isConsentKept) {
      p(t.cookies.withdraw);
      p(t.cookies.proof(t.cookies.lifetime(consentLifetime(policy)), receiptRetentionMonths(policy)));
    }
    if (
      isConsentKept &&
      enforced.has('cookie_choices_at_login') &&
      policy.categories[COOKIE_CHOICES_CATEGORY] !== undefined
    )
      p(t.cookies.linked);
  } else if (policy.cookies.externalPolicyUrl === undefined) {
    p(t.cookies.none);
  }
  if (policy.cookies.externalPolicyUrl !== undefined) p(t.cookies.external(policy.cookies.externalPolicyUrl));
  if (isTrackingKept) p(t.newsletter.tracking);

  // Minors and sensitive data (VK-15, VK-16).
  h2(t.headings.minors);
  p(t.minors.rule(policy.minors.parentalConsentBelowAge));
  p(t.minors.parents);
  p(t.minors.report(describeChannel(policy.minors.reportChannel, policy, t)));
  const special = Object.values(policy.categories).filter((category) => category.special);
  if (!policy.sensitiveData.collected || special.length === 0) {
    p(t.sensitive.none);
  } else {
    p(joinLabels(special.map((category) => label(category.label))));
  }
  p(t.sensitive.withConsent);
  p(t.sensitive.examples);

  // Rights (VK-21..27, VX-11..16, VX-10).
  h2(t.headings.rights);
  p(t.rights.intro);
  const hasSelfService = policy.rights.channels.some((channel) => channel.kind === 'account_settings');
  const restrictionExemptions = describeRestrictionExemptions(policy, lang);
  list(
    policy.rights.offered.map((right) => {
      let text = t.rights.items[right];
      if (right === 'restriction' && restrictionExemptions !== undefined)
        text = t.rights.restrictionExcept(restrictionExemptions);
      if (right === 'erasure') text += ` ${t.rights.whileContract}`;
      if (right === 'erasure' && hasSelfService) text += ` ${t.rights.selfService}`;
      if (right === 'portability' && policy.rights.portabilityToOtherOrganisation)
        text += ` ${t.rights.toOtherOrganisation}`;
      return text;
    }),
  );
  if (policy.rights.highlightedCategories.length > 0) {
    p(t.rights.highlighted(joinLabels(policy.rights.highlightedCategories.map(categoryLabel))));
  }
  p(t.rights.how(describeChannels(policy.rights.channels, policy, lang)));
  p(
    `${t.rights.verification} ${joinAlternatives(
      policy.rights.identityVerification.map((m) => t.rights.methods[m]),
      lang,
    )}.`,
  );
  p(t.rights.deadline(policy.rights.answerDeadlineDays));
  p(t.rights.free);

  // Complaints (VK-28 / VX-17): always the current authority.
  h2(t.headings.complaints);
  p(t.complaints.first(privacy.email));
  const dpa = policy.supervisoryAuthority;
  p(t.complaints.authority);
  list([label(dpa.name), formatAddress(dpa.address), dpa.email, dpa.phone, dpa.website]);

  // Changes and version (VK-29).
  h2(t.headings.changes);
  p(t.changes.mayChange);
  if (c.statementUrl !== undefined) p(t.changes.latestAt(c.statementUrl));
  p(t.changes.version(policy.statement.version, formatDate(policy.statement.effectiveDate, lang)));
  if (policy.statement.previousVersionDate !== undefined) {
    p(t.changes.replaces(formatDate(policy.statement.previousVersionDate, lang)));
  }

  return { lang, title: t.title(name), blocks };
}

export function capitalize(text: string): string {
  return text.length === 0 ? text : `${text.charAt(0).toUpperCase()}${text.slice(1)}`;
}

function unique<T>(items: readonly T[]): T[] {
  return [...new Set(items)];
}

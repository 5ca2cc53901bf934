import { gzipSync } from 'node:zlib';
import type { Language, Policy } from '../../kernel/policy/index.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import { BANNER_CSS, BANNER_SOURCE } from './banner.client.js';
import { BANNER_TEXTS, BANNER_VERSION } from './banner.texts.js';
import { CONSENT_COOKIE } from '../../kernel/policy/index.js';
import { askedCategories, cookieSectionVersion, visitLogPurposes } from './cookie-policy.js';

export interface BannerUrls {
  /** Kluis's public base URL followed by /t/<slug>. */
  tenantBase: string;
}

/** What the banner needs, from the tenant's policy: the same facts as the statement's cookie section. */
export function bannerConfig(policy: Policy, urls: BannerUrls): Record<string, unknown> {
  const languages = policy.statement.languages;
  const localized = (pick: (lang: Language) => string): Record<string, string> =>
    Object.fromEntries(languages.map((lang) => [lang, pick(lang)]));
  return {
    cookie: CONSENT_COOKIE,
    policyVersion: cookieSectionVersion(policy),
    bannerVersion: BANNER_VERSION,
    languages,
    categories: askedCategories(policy),
    receiptUrl: `${urls.tenantBase}/consent/receipts`,
    visitUrl: visitLogPurposes(policy).administration === undefined ? null : `${urls.tenantBase}/visits`,
    settingsUrl: `${urls.tenantBase}/cookies`,
    cssUrl: `${urls.tenantBase}/consent.css`,
    cookies: policy.cookies.items.map((cookie) => ({
      name: cookie.name,
      category: cookie.category,
      provider: cookie.provider,
      lifetime: localized((lang) => STATEMENT_TEXTS[lang].cookies.lifetime(cookie.lifetime)),
      purpose: localized((lang) => cookie.purpose[lang]),
    })),
    texts: Object.fromEntries(
      languages.map((lang) => {
        const { current: _current, source: _source, sourceColumn: _column, ...texts } = BANNER_TEXTS[lang];
        return [lang, texts];
      }),
    ),
  };
}

/** The script the provider embeds, with the tenant's configuration in it. */
export function renderBannerScript(policy: Policy, urls: BannerUrls): string {
  // JSON is valid JavaScript; "<" is escaped so the text is also safe inside an inline <script>.
  const config = JSON.stringify(bannerConfig(policy, urls)).replace(/</g, '\\u003c');
  return BANNER_SOURCE.replace('__KLUIS_CONFIG__', () => config);
}

export { BANNER_CSS };

/** Size of the served script and stylesheet, raw and gzipped (the README and decision state it). */
export function bannerSize(
  policy: Policy,
  urls: BannerUrls,
): { script: number; scriptGzip: number; css: number } {
  const script = Buffer.from(renderBannerScript(policy, urls));
  return { script: script.length, scriptGzip: gzipSync(script).length, css: Buffer.byteLength(BANNER_CSS) };
}

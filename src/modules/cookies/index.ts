export {
  registerCookiesRoutes,
  DEFAULT_COOKIE_LIMITS,
  RECORD_ROLES as COOKIE_RECORD_ROLES,
  type CookieLimits,
  type CookiesRouteOptions,
} from './cookies.routes.js';
export {
  linkConsentAtSignIn,
  readOwnCookieChoices,
  type LinkedCookieChoice,
  type PortalSignIn,
} from './consent-link.service.js';
export { purgeWebsiteRecords, type WebsitePurge } from './purge.service.js';
export { cookiesDataMap } from './datamap.js';
export { cookieSectionVersion, isBannerOffered, visitLogPurposes } from './cookie-policy.js';
export { bannerSize } from './banner.script.js';
export type { CookiesTables } from './cookies.tables.js';

/**
 * Statement promises this module keeps end to end (banner.browser.test.ts: consent asked at the
 * first visit, gated scripts, refusal and withdrawal, GPC, re-asking on a new cookie section;
 * consent-link.test.ts: a consent id linked at a portal login, shown in the access report and the
 * export, unlinked by erasure).
 */
export const ENFORCES = ['cookie_consent', 'cookie_choices_at_login'] as const;

export {
  registerCookiesRoutes,
  DEFAULT_COOKIE_LIMITS,
  type CookieLimits,
  type CookiesRouteOptions,
} from './cookies.routes.js';
export { purgeWebsiteRecords, type WebsitePurge } from './purge.service.js';
export { cookiesDataMap } from './datamap.js';
export { cookieSectionVersion, isBannerOffered } from './cookie-policy.js';
export { bannerSize } from './banner.script.js';
export type { CookiesTables } from './cookies.tables.js';

/**
 * Statement promises this module keeps end to end (banner.browser.test.ts: consent asked at the
 * first visit, gated scripts, refusal and withdrawal, GPC, re-asking on a new cookie section).
 */
export const ENFORCES = ['cookie_consent'] as const;

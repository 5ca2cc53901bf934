import type { PromiseKey } from '../../kernel/policy/index.js';

/**
 * VK-17, VK-18, VX-9: newsletters on legitimate interest (soft opt-in) or confirmed opt-in, with a
 * one-click unsubscribe in every mailing; VK-19: open and click tracking only with consent. Tested
 * end to end in newsletter.test.ts (HTTP in, mail out through a real SMTP server).
 */
export const ENFORCES: readonly PromiseKey[] = ['newsletter_consent', 'email_tracking_consent'];

export { consentDataMap } from './datamap.js';
export { readConsentPurposeUses, type ConsentPurposeUses } from './purpose-uses.js';
export type { ConsentTables, ConsentChannel, ConsentEvent } from './consent.tables.js';
export {
  appendConsentWithin,
  recordConsent,
  listConsentRecords,
  listConsentStates,
  consentWording,
  optOutEventFor,
  interestPurposeOf,
  trackingPurposeOf,
  doubleOptInPurposeOf,
  type ConsentContext,
  type RecordConsentInput,
  type ConsentState,
  type StopEffects,
} from './ledger.service.js';
export type { ConsentRecord } from './ledger.repository.js';
/** For the privacy portal's pages (the portal helper renders HTML over these routes' data). */
export {
  consentRecordSchema,
  consentStateSchema,
  portalConsentsSchema,
  presentConsentRecord,
  presentConsentState,
} from './consent.presenter.js';
export {
  registerConsentRoutes,
  type ConsentRouteOptions,
  type PortalAuthenticator,
} from './consent.routes.js';
export type { ConsentDeps } from './deps.js';
export { registerMailingRoutes } from './mailing.routes.js';
export { registerNewsletterPublicRoutes } from './public.routes.js';
export {
  createMailing,
  getMailing,
  previewAudience,
  queueMailing,
  readMailingStatus,
  mailingPurposes,
  type Mailing,
  type CreateMailingInput,
} from './mailing.service.js';
export { sendQueuedMailings, type SendResult, type SendOptions } from './sender.service.js';
export {
  signUp,
  confirmSignup,
  expireSignups,
  recordConsentOrAskConfirmation,
  findSignupContacts,
  NO_CONFIRMATION_ADDRESS,
  SIGNUP_TTL_MS,
  REPEAT_WINDOW_MS,
  type SignupContact,
  type ConsentOutcome,
} from './signup.service.js';
/** For the staff route's duplicate check (decision 1020): subscribers of a type at an address. */
export { selectSubscribersOfType } from './signup.repository.js';
export { unsubscribe } from './unsubscribe.service.js';
export { followClick, recordOpen } from './tracking.service.js';
export { sealClearDkimKeys, writeMailSettings, type MailSettingsInput } from './settings.service.js';
/** The public pages (unsubscribe, confirmation), for the privacy portal to wrap in its layout. */
export { renderPage, UNSUBSCRIBE_TEXT, CONFIRM_TEXT } from './pages.js';

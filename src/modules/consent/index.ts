export { consentDataMap } from './datamap.js';
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
  type ConsentContext,
  type RecordConsentInput,
  type ConsentState,
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

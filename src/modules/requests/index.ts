export {
  submitPublicRequest,
  verifyPublicRequest,
  getPublicStatus,
  registerStaffRequest,
  verifyByStaff,
  extendRequest,
  rejectRequest,
  fulfilByStaff,
  listRequests,
  listRequestsForOperator,
  sendDeadlineReminders,
  carryOutAccountErasures,
  ACCOUNT_ERASURE_GRACE_MS,
  type AccountErasuresResult,
  carryOutDeferredErasures,
  findDeferredErasure,
  followUpErasure,
  type ErasureFollowUp,
  type DeferredErasuresResult,
  completeDownload,
  consumeDownload,
  findDownload,
  RIGHTS_PURPOSE,
  REQUEST_KINDS,
  type PortalSignIn,
  type RequestCookies,
  type SignInBrowser,
  type RequestsDeps,
  type RequestStatus,
  type RequestListItem,
} from './requests.service.js';
export { registerRequestsRoutes } from './requests.routes.js';
export { sendDownload } from './download.js';
export {
  sendExport,
  takeExportSlot,
  EXPORT_RETRY_AFTER_SECONDS,
  DEFAULT_EXPORT_PACE,
  type ExportPace,
} from './export-download.js';
export {
  registerAccountRoutes,
  signInBrowserOf,
  portalSessionOf,
  setSessionCookie,
  SUBJECT_COOKIE,
  SUBJECT_CSRF_COOKIE,
} from './account.routes.js';
export {
  authenticateSubject,
  endSession,
  fileAccountRequest,
  listOwnRequests,
  offeredLanguage,
  ownDataOptions,
  portalPasswordState,
  readOwnPerson,
  type PortalPasswordState,
  type SubjectSession,
} from './account.service.js';
export {
  askLoginLinkAtDoor,
  changePasswordAtDoor,
  fileRequestAtDoor,
  loginAtDoor,
  loginWithLinkAtDoor,
  verifyAtDoor,
} from './doors.js';
export { requestsDataMap } from './datamap.js';
export {
  DEFAULT_ANSWER_QUANTA,
  DEFAULT_PUBLIC_LIMITS,
  type AnswerQuanta,
  type PublicDoorLimits,
} from './limits.js';
export type { TransferSettings } from './transfer.js';
export type { RequestsTables } from './requests.tables.js';
export { readLastRequests, readRequestHolds, type RequestHold } from './retention-clocks.js';
export {
  liftRestriction,
  readRestriction,
  type RestrictionState,
  restrictionLiftSchema,
  type RestrictionLift,
  type RestrictionLiftInput,
} from './restriction-lift.service.js';
export { RESTRICTION_LIFT_GROUNDS, type RestrictionLiftGround } from './letters.js';

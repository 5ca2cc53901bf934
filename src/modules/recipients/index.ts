// The recipients module (issue 18): files for recipients through the kernel's door, authority
// requests under four eyes, the incident register on the 72-hour clock.
export { exportForRecipient, exportInputSchema, type RecipientExport } from './export.service.js';
export {
  registerRecipientsRoutes,
  registerIncidentRoutes,
  incidentReportPath,
  type IncidentRouteOptions,
} from './recipients.routes.js';
/** For the privacy portal's report form page: the body the endpoint takes (VK-9). */
export {
  publicReportSchema as incidentReportSchema,
  submitPublicIncidentReport,
  queueBreachReminders,
  dueReminderHour,
  DEFAULT_INCIDENT_FORM_LIMITS,
  NOTIFICATION_HOURS,
  REMINDER_HOURS,
  type Incident,
  type IncidentDeps,
  type IncidentFormLimits,
} from './incident.service.js';
export { recipientsDataMap } from './datamap.js';
export {
  approveAuthorityRequest,
  discloseAuthorityRequest,
  listAuthorityRequests,
  registerAuthorityRequest,
  LEGAL_DISCLOSURE_PURPOSE,
  type AuthorityRequest,
  type AuthorityDisclosure,
} from './authority.service.js';
export type { RecipientsTables } from './recipients.tables.js';

/**
 * Statement promises this module keeps end to end: each recipient gets only its categories (the
 * kernel's door refuses the rest) and every disclosure is logged and shown in access reports;
 * reports of misuse are registered and a breach runs on the 72-hour clock.
 */
export const ENFORCES = ['disclosure_log', 'incident_register'] as const;

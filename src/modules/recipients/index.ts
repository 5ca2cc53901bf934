// The recipients module (issue 18): files for recipients through the kernel's door, authority
// requests under four eyes, the incident register on the 72-hour clock.
export { exportForRecipient, exportInputSchema, type RecipientExport } from './export.service.js';
export { registerRecipientsRoutes } from './recipients.routes.js';
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
 * kernel's door refuses the rest) and every disclosure is logged and shown in access reports.
 */
export const ENFORCES = ['disclosure_log'] as const;

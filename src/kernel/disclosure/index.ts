// The kernel's door out (issue 18): every disclosure to a recipient of the policy goes through it.
export {
  checkDisclosure,
  disclose,
  findSubjectDisclosures,
  findConfidentialPurposes,
  type Disclosure,
  type DisclosureKernel,
  type DisclosureOrder,
  type SubjectDisclosure,
} from './disclosure.js';
export type { DisclosureTables } from './disclosure.tables.js';

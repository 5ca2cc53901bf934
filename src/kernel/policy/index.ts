// The public surface of the policy kernel: everything else in this folder is internal.
export {
  BELGIAN_DPA,
  CATEGORY_GROUPS,
  CHANNEL_KINDS,
  COOKIE_CATEGORIES,
  LANGUAGES,
  LEGAL_BASES,
  PolicySchema,
  RECIPIENT_KINDS,
  RIGHTS,
  TRANSFER_SAFEGUARDS,
} from './policy.schema.js';
export type {
  Category,
  Channel,
  Cookie,
  Language,
  LegalBasis,
  LegalHold,
  LocalizedText,
  Policy,
  PolicyInput,
  Purpose,
  Recipient,
  RecipientKind,
  RetentionRule,
  Right,
} from './policy.schema.js';
export { formatPolicyIssue, PolicyValidationError } from './policy.errors.js';
export type { PolicyIssue } from './policy.errors.js';
export { formatPath, loadPolicyFile, parsePolicy, validatePolicySource } from './policy.loader.js';
export type { PolicyParseResult } from './policy.loader.js';
export { checkNewVersionRules, checkPolicyReferences } from './policy.references.js';
export type { PathSegment, ReferenceIssue } from './policy.references.js';
export {
  categoriesOfPurpose,
  findCategory,
  findPurpose,
  isAllowed,
  isEeaCountry,
  isEuCountry,
  isWithinRegion,
  legalHoldsFor,
  marketingPurposes,
  purposesForRole,
  purposesUsingCategory,
  recipientsForPurpose,
  restrictionExemptPurposes,
  retentionRuleFor,
  retentionRulesFor,
  rolesForPurpose,
} from './policy.query.js';
export type { RetentionRuleRef } from './policy.query.js';
export { canonicalJson, policyVersionHash } from './policy.version.js';
export {
  CONSENT_COOKIE,
  consentLifetime,
  purposeMonths,
  receiptRetentionMonths,
} from './cookie-retention.js';
export { buildStatement, describeRestrictionExemptions, generateStatement } from './statement.generator.js';
export type { StatementOptions } from './statement.generator.js';
export { buildRegisterRows, generateRegister } from './register.generator.js';
export type { RegisterFormat, RegisterOptions, RegisterRow } from './register.generator.js';
export type { DocumentFormat } from './document.render.js';
export { buildPolicyJsonSchema, renderPolicyJsonSchema } from './policy.json-schema.js';
export {
  ALL_PROMISES,
  COOKIE_CHOICES_CATEGORY,
  declaredPromises,
  PROMISES,
  unenforcedPromises,
} from './promises.js';
export type { EnforcedPromises, PromiseKey } from './promises.js';

// The telephony module's public surface (VX-5, G-1): numbers, tariff, CDR import, rating, retention.
export {
  assignNumber,
  recordPorting,
  listNumberAssignments,
  normaliseInventoryNumber,
  type AssignNumberInput,
  type GivenNumberAssignment,
  type NumberAssignment,
} from './number.service.js';
export {
  endNumberPeriodsWithRelation,
  handleTerminationForNumbers,
  listHoldersWithPeriodsOpenAt,
  subscribeNumberPeriodEnds,
  CONTRACT_END_ACTOR,
  type NumberPeriodsEnd,
  type RelationEnd,
  type RelationEndTrigger,
} from './number-end.service.js';
export {
  addLineIdentifier,
  endLineIdentifier,
  listLineIdentifiers,
  LINE_IDENTIFIER_KINDS,
  type AddLineIdentifierInput,
  type GivenLineIdentifier,
  type LineIdentifier,
  type LineIdentifierKind,
} from './line-identifier.service.js';
export {
  importTariff,
  listTariffRates,
  assertMayManageTariff,
  mayManageTariff,
  type TariffImportResult,
  type TariffRateView,
} from './tariff.service.js';
export { registerTelephonyRoutes } from './telephony.routes.js';
export {
  importCdrFile,
  CALL_BILLING_PURPOSE,
  CDR_IMPORT_ACTOR,
  type CdrImportDeps,
  type CdrImportOptions,
  type CdrImportProgress,
  type CdrImportSummary,
} from './cdr-import.service.js';
export {
  findCallRecords,
  findCallRecordsIn,
  rerateCalls,
  purgeExpiredCallRecords,
  judgeCallMonth,
  contestMonthsOf,
  BILLING_TIME_ZONE,
  CALL_TOTALS_HEAD_LENGTH,
  type CallMonthBilling as PurgeMonthBilling,
  type CallMonthVerdict,
  type StoredCallRecord,
  type RerateResult,
  type PurgeResult,
} from './call-record.service.js';
export { parseDateOrInstant } from './date-input.js';
export {
  removeExpiredRejects,
  runWaitingUploads,
  sweepSpool,
  DEFAULT_MAX_UPLOAD_BYTES,
  REJECTS_KEPT_DAYS,
  type CdrUploadSettings,
  type CdrUploadRunSettings,
  type UploadsPass,
  type StoppedUpload,
} from './cdr-upload.service.js';
export { CdrLayoutError, type CdrFormat, type GenericColumnMapping } from './cdr.parse.js';
export { telephonyDataMap, TELEPHONY_CATEGORIES } from './datamap.js';
export type { TelephonyTables } from './telephony.tables.js';
export { readCallMonths } from './retention-clocks.js';
export {
  loadDestinationGrouping,
  groupingOf,
  builtInGroupOf,
  isBuiltInGroup,
  BUILT_IN_HEADS,
  BUILT_IN_GROUPS,
  type DestinationGrouping,
} from './destination-groups.js';
export type { DestinationGroup } from './rating.js';
export {
  createRatingPlan,
  listRatingPlans,
  assignRatingPlan,
  rerateMonth,
  hasRatingPlans,
  type PlanTarget,
  type RatingPlanView,
  type RerateMonthReport,
  type RerateMonthOptions,
} from './rating-plan.service.js';
export { planDefinitionSchema, type PlanDefinition } from './rating-plans.js';
export {
  selectItemisedCallsPage,
  type CallListCursor,
  type CallListPage,
  type ChargedCall,
} from './charged-calls.repository.js';
export { CALL_TOTALS, CALLS } from './call-relations.js';
export { countImportsInProgress, maySeeImports } from './cdr-import-log.js';

export { planRetention, type RetentionPlan, type PlannedPerson, type PlanOptions } from './plan.service.js';
export {
  runRetentionSweep,
  RETENTION_ACTOR,
  CERTIFICATE_ACTION,
  DEFAULT_SWEEP_BATCH,
  type SweepResult,
  type SweepOptions,
} from './sweep.service.js';
export {
  placeLegalHold,
  listLegalHolds,
  releaseLegalHold,
  placeCaseHold,
  addToCaseHold,
  releaseCaseHold,
  listCaseHolds,
  type HoldCase,
  HOLD_CATEGORY,
  type LegalHold,
  type HoldContext,
} from './holds.service.js';
export { releaseEndedDocuments, type DocumentRelease } from './document-release.service.js';
export { registerRetentionRoutes } from './retention.routes.js';
export { retentionDataMap } from './datamap.js';
export { isIsoDay } from './dates.js';
export type { RetentionTables } from './retention.tables.js';

/** Statement promises this module enforces end to end (the generated statement may claim them). */
export const ENFORCES = ['retention_sweeps'] as const;

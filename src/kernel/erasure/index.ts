export {
  eraseSubject,
  eraseSubjects,
  type EraseSubjectsOptions,
  type BatchErasureResult,
  finishKeyDestructions,
  journalPendingErasures,
  eraseCategories,
  type EraseCategoriesOptions,
  type CategoryErasureOutcome,
  finishKeyDestruction,
  finishPendingKeyDestructions,
  type ErasureOutcome,
  type EraseOptions,
  findErasureHolds,
  erasureHoldsOn,
  isErasureHeld,
  eraseEndedSilences,
  type ErasureHold,
} from './erasure.service.js';
export type { ErasureTables } from './erasure.tables.js';
export { ErasureJournal } from './erasure-journal.js';
export { replayErasureJournal, JOURNAL_REPLAY_ACTOR, type ReplayResult } from './erasure-replay.js';
export { releaseHeldRows } from './release.js';

export {
  eraseSubject,
  eraseCategories,
  type EraseCategoriesOptions,
  type CategoryErasureOutcome,
  finishKeyDestruction,
  finishPendingKeyDestructions,
  type ErasureOutcome,
  type EraseOptions,
} from './erasure.service.js';
export type { ErasureTables } from './erasure.tables.js';

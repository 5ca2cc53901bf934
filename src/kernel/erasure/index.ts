export {
  eraseSubject,
  finishKeyDestruction,
  finishPendingKeyDestructions,
  type ErasureOutcome,
  type EraseOptions,
} from './erasure.service.js';
export type { ErasureTables } from './erasure.tables.js';

export {
  sealLetter,
  deliverLetters,
  countPendingLetters,
  messageDomainOf,
  type Letter,
  type SealOptions,
  type DeliveryResult,
} from './letters.service.js';
export type { LettersTables, LetterState } from './letters.tables.js';

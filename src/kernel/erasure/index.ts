export { eraseSubject, type ErasureOutcome, type EraseOptions } from './erasure.service.js';

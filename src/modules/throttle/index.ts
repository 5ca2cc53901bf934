export {
  admitAttempt,
  assertAllowed,
  checkAttempt,
  countAttempt,
  describeWait,
  recordFailure,
  resetCounters,
  throttledError,
  type Admission,
  type Counter,
  type Limit,
  type Verdict,
} from './throttle.service.js';
export type { ThrottleTables } from './throttle.tables.js';
export { throttleDataMap } from './datamap.js';

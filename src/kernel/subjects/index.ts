export {
  registerSubject,
  registerSubjects,
  touchSubjects,
  setPurposeState,
  setRestriction,
  setMarketingObjection,
} from './subject.service.js';
export type { PurposeStateChange } from './subject.service.js';
export type { SubjectTables, PurposeState } from './subject.tables.js';

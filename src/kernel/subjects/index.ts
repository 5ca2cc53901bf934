export {
  registerSubject,
  registerSubjects,
  touchSubjects,
  holdSubjectsAgainstErasure,
  setPurposeState,
  setRestriction,
  setMarketingObjection,
} from './subject.service.js';
export type { PurposeStateChange } from './subject.service.js';
export type { SubjectTables, PurposeState } from './subject.tables.js';

export {
  registerSubject,
  registerSubjects,
  touchSubjects,
  holdSubjectsAgainstErasure,
  setPurposeState,
  setRestriction,
  readRestrictedSubjects,
  isRestrictionInForce,
  announceRestrictionLift,
  endAnnouncedRestrictions,
  setMarketingObjection,
} from './subject.service.js';
export type { PurposeStateChange } from './subject.service.js';
export type { SubjectTables, PurposeState } from './subject.tables.js';

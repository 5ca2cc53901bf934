import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** The correspondence category both seed policies declare: the officer's words about a case. */
const CASE = { category: 'kluis.communication.correspondence' };

export const retentionDataMap: TableDataMap[] = [
  {
    table: 'legal_holds',
    module: 'retention',
    subjectColumn: 'subject_id',
    // While it runs, the hold keeps its person from any erasure, itself included (decision 0415);
    // once released or ended it outlives nothing it protected: erased with the person.
    holdsSubject: { kind: 'legal_hold', openWhileNull: 'released_at', endsOn: 'ends_on' },
    erasure: { kind: 'delete_rows' },
    personal: { reason: CASE, ends_on: CASE },
    freeText: { reason: 'all' },
    notPersonal: {
      tenant_id: 'tenant key',
      hold_id: 'row id',
      subject_id: 'internal subject id (the subject column)',
      placed_at: 'when the hold was placed',
      placed_by_staff_id: 'staff id of the officer',
      released_at: 'when the hold was lifted',
      released_by_staff_id: 'staff id of the officer',
      case_id: 'the case this hold is part of (legal_hold_cases)',
    },
  },
  {
    table: 'legal_hold_cases',
    module: 'retention',
    personal: {},
    // The case's reason is written into each member's hold (personal, in their access report);
    // the case itself keeps a reference the officer chooses (a docket number), scanned on write.
    freeText: { name: 'all' },
    notPersonal: {
      tenant_id: 'tenant key',
      case_id: 'row id',
      name: 'case reference (e.g. a docket number), scanned for identifiers and sensitive words',
      ends_on: 'the last day the case keeps its persons',
      placed_at: 'when the case was opened',
      placed_by_staff_id: 'staff id of the officer',
      released_at: 'when the case was closed',
      released_by_staff_id: 'staff id of the officer',
    },
  },
];

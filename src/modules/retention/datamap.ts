import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** The correspondence category both seed policies declare: the officer's words about a case. */
const CASE = { category: 'kluis.communication.correspondence' };

export const retentionDataMap: TableDataMap[] = [
  {
    table: 'legal_holds',
    module: 'retention',
    subjectColumn: 'subject_id',
    // A hold outlives nothing it protects: when the person is erased, so is the hold.
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
    },
  },
];

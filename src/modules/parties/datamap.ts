import type { TableDataMap } from '../../kernel/datamap/datamap.js';

export const partiesDataMap: TableDataMap[] = [
  {
    table: 'people',
    module: 'parties',
    subjectColumn: 'subject_id',
    rowIdColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      family_name: { category: 'user.name' },
      given_name: { category: 'user.name' },
      gender: { category: 'user.demographic.gender' },
      preferred_language: { category: 'user.demographic.language' },
      email_enc: { category: 'user.contact.email', encrypted: true },
      email_bidx: { category: 'user.contact.email', blindIndexOf: 'email_enc' },
      phone_enc: { category: 'user.contact.phone_number', encrypted: true },
      phone_bidx: { category: 'user.contact.phone_number', blindIndexOf: 'phone_enc' },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      subject_id: 'internal subject id, meaningless without the rest of the row',
      source: 'kind of source (e.g. data_subject, credit_bureau), a fixed key',
      created_at: 'row bookkeeping',
      updated_at: 'row bookkeeping',
    },
  },
];

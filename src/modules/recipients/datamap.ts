import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** The recipients module's tables (the disclosure log itself is the kernel's). */
export const recipientsDataMap: TableDataMap[] = [
  {
    // The persons in an authority request's scope: a link only (the request may be confidential).
    table: 'authority_request_subjects',
    module: 'recipients',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      authority_request_id: 'request id',
      subject_id: 'internal subject id (the subject column)',
    },
  },
  {
    // The order as the authority wrote it: about a case, not a person's data (the persons are
    // linked above); the officer's texts are scanned on write (VK-16).
    table: 'authority_requests',
    module: 'recipients',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      authority_request_id: 'row id',
      recipient: 'policy recipient key',
      purpose: 'policy purpose key',
      authority: 'name of a public authority (scanned for identifiers)',
      authority_country: 'country code',
      legal_basis_cited: 'article of law the order cites (scanned)',
      order_reference: "the authority's file number (scanned for identifiers)",
      categories: 'policy category keys',
      period_from: 'scope of the order',
      period_to: 'scope of the order',
      decision: 'fixed decision key',
      decision_note: "the officer's reasons (scanned)",
      confidential_until: 'end of the silence the authority imposed',
      state: 'workflow state',
      registered_by_staff_id: 'staff id',
      registered_at: 'workflow timestamp',
      approved_by_staff_id: 'staff id',
      approved_at: 'workflow timestamp',
      disclosed_by_staff_id: 'staff id',
      disclosed_at: 'workflow timestamp',
      disclosure_id: 'disclosure log id',
    },
    freeText: {
      authority: 'identifiers',
      legal_basis_cited: 'all',
      order_reference: 'identifiers',
      decision_note: 'all',
    },
  },
];

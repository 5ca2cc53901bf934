import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** The recipients module's tables (the disclosure log itself is the kernel's). */
export const recipientsDataMap: TableDataMap[] = [
  {
    // The persons in an authority request's scope: a link only (the request may be confidential).
    // An erasure keeps a person's link while the request's silence runs, and says so only to
    // staff (legal obligation; the person may not be told: decision 0470).
    table: 'authority_request_subjects',
    module: 'recipients',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    keptWhileSilent: {
      kind: 'authority_request',
      table: 'authority_requests',
      via: 'authority_request_id',
      until: 'confidential_until',
    },
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
  {
    // The persons an incident possibly affected (found through the data map): a link only.
    table: 'incident_subjects',
    module: 'recipients',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      incident_id: 'incident id',
      subject_id: 'internal subject id (the subject column)',
      letter_sent_at: 'when the Art. 34 letter went out',
    },
  },
  {
    // The register describes events; persons are linked above. Texts typed by reporters and
    // officers are scanned on write for identifiers and special categories (VK-16).
    table: 'incidents',
    module: 'recipients',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      incident_id: 'row id',
      kind: 'fixed kind key',
      source: 'fixed source key',
      description: 'what happened, as reported (scanned)',
      noticed_at: 'when it was noticed',
      reported_at: 'when it was registered',
      reported_by_staff_id: 'staff id',
      is_breach: 'assessment flag',
      aware_at: 'start of the 72-hour clock',
      affected_categories: 'policy category keys',
      affected_tables: 'table names of the data map',
      affected_count: 'count',
      risk: 'fixed risk key',
      risk_assessment: "the officer's assessment (scanned)",
      measures: 'measures taken or proposed (scanned)',
      what_happened: "what happened, in the officer's words for the letters (scanned)",
      assessed_at: 'workflow timestamp',
      assessed_by_staff_id: 'staff id',
      authority_decision: 'fixed decision key',
      authority_reason: 'why the authority was not notified, Art. 33(5) (scanned)',
      authority_decided_at: 'workflow timestamp',
      persons_decision: 'fixed decision key',
      persons_reason: 'why the persons are not informed (scanned)',
      persons_decided_at: 'workflow timestamp',
      last_reminder_hour: 'reminder bookkeeping',
    },
    freeText: {
      description: 'all',
      risk_assessment: 'all',
      measures: 'all',
      what_happened: 'all',
      authority_reason: 'all',
      persons_reason: 'all',
    },
  },
  {
    // Every assessment of an incident as it was made (decision 0840): the same kind of texts as
    // the register's, scanned on write (VK-16); no person is named here.
    table: 'incident_assessments',
    module: 'recipients',
    personal: {},
    notPersonal: {
      tenant_id: 'tenant key',
      incident_id: 'incident id',
      assessment_no: 'number of the assessment within its incident',
      is_breach: 'assessment flag',
      risk: 'fixed risk key',
      risk_assessment: "the officer's assessment (scanned)",
      measures: 'measures taken or proposed (scanned)',
      affected_categories: 'policy category keys',
      affected_tables: 'table names of the data map',
      affected_count: 'count',
      change_reason: 'why an assessment was lowered (scanned)',
      what_happened: "what happened, in the officer's words for the letters (scanned)",
      assessed_at: 'workflow timestamp',
      assessed_by_staff_id: 'staff id',
    },
    freeText: {
      risk_assessment: 'all',
      measures: 'all',
      change_reason: 'all',
      what_happened: 'all',
    },
  },
];

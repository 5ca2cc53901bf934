-- Issue 18 (VK-10): requests of judicial authorities and police. A privacy officer registers the
-- request (authority, the legal basis it cites, the order's reference, the scope: persons,
-- categories, period) and the decision; a second staff member approves before anything is
-- disclosed (four eyes); the disclosure then goes through the kernel's door (disclosures, 0150).
-- The texts typed here describe the order, not a person: scanned on write (VK-16) and classified
-- in the recipients module's data map.
CREATE TABLE authority_requests (
  tenant_id integer NOT NULL REFERENCES tenants (tenant_id),
  authority_request_id bigint GENERATED ALWAYS AS IDENTITY,
  recipient text NOT NULL CHECK (recipient ~ '^[a-z][a-z0-9_]*$'),
  purpose text NOT NULL CHECK (purpose ~ '^[a-z][a-z0-9_]*$'),
  authority text NOT NULL CHECK (length(authority) BETWEEN 2 AND 200),
  authority_country text NOT NULL CHECK (authority_country ~ '^[A-Z]{2}$'),
  legal_basis_cited text NOT NULL CHECK (length(legal_basis_cited) BETWEEN 2 AND 500),
  order_reference text NOT NULL CHECK (length(order_reference) BETWEEN 1 AND 200),
  categories text[] NOT NULL CHECK (cardinality(categories) > 0 AND array_to_string(categories, ',') ~ '^[a-z][a-z0-9_.,]*$'),
  period_from date NULL,
  period_to date NULL CHECK (period_to IS NULL OR period_from IS NULL OR period_to >= period_from),
  decision text NOT NULL CHECK (decision IN ('disclose', 'refuse')),
  decision_note text NULL CHECK (length(decision_note) BETWEEN 1 AND 2000),
  -- The day until which the authority forbids telling the persons (inclusive).
  confidential_until date NULL,
  state text NOT NULL CHECK (state IN ('awaiting_approval', 'approved', 'refused', 'disclosed')),
  registered_by_staff_id bigint NOT NULL,
  registered_at timestamptz NOT NULL,
  approved_by_staff_id bigint NULL CHECK (approved_by_staff_id IS DISTINCT FROM registered_by_staff_id),
  approved_at timestamptz NULL,
  disclosed_by_staff_id bigint NULL,
  disclosed_at timestamptz NULL,
  disclosure_id bigint NULL,
  PRIMARY KEY (tenant_id, authority_request_id),
  FOREIGN KEY (tenant_id, disclosure_id) REFERENCES disclosures (tenant_id, disclosure_id)
);
SELECT kluis_isolate_tenant('authority_requests');

-- The persons in the request's scope. Not shown in their access report: the request may be
-- confidential, and the disclosure, once made, is (when its silence ends).
CREATE TABLE authority_request_subjects (
  tenant_id integer NOT NULL,
  authority_request_id bigint NOT NULL,
  subject_id bigint NOT NULL,
  PRIMARY KEY (tenant_id, authority_request_id, subject_id),
  FOREIGN KEY (tenant_id, authority_request_id) REFERENCES authority_requests (tenant_id, authority_request_id),
  FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id)
);
SELECT kluis_isolate_tenant('authority_request_subjects');
CREATE INDEX authority_request_subjects_subject ON authority_request_subjects (tenant_id, subject_id);

-- Dunning (issue 22, decision 0300): reminders on a schedule from the billing settings, each level
-- recorded once per invoice in the transaction that writes its letter; the hand-over of an invoice
-- to collection after the formal notice.

-- The schedule: days after the due date of the first reminder, the second and the formal notice.
-- Existing settings start with dunning off (an upgrade mails nobody about old invoices); settings
-- written from now on have it on unless they say otherwise.
ALTER TABLE billing_settings
  ADD COLUMN reminders_enabled boolean NOT NULL DEFAULT false,
  ADD COLUMN first_reminder_days integer NOT NULL DEFAULT 14,
  ADD COLUMN second_reminder_days integer NOT NULL DEFAULT 28,
  ADD COLUMN formal_notice_days integer NOT NULL DEFAULT 42,
  ADD CONSTRAINT billing_settings_reminder_schedule CHECK (
    first_reminder_days BETWEEN 1 AND 365
    AND second_reminder_days > first_reminder_days
    AND formal_notice_days > second_reminder_days
    AND formal_notice_days <= 730
  );
ALTER TABLE billing_settings ALTER COLUMN reminders_enabled SET DEFAULT true;

-- One row per level reached: the primary key is what makes a reminder happen once, whoever runs
-- the job and however often; letter_id is the sealed letter written in the same transaction.
CREATE TABLE invoice_reminders (
  tenant_id integer NOT NULL,
  invoice_id bigint NOT NULL,
  level smallint NOT NULL CHECK (level BETWEEN 1 AND 3),
  sent_on date NOT NULL,
  pay_by date NOT NULL,
  balance_cents bigint NOT NULL CHECK (balance_cents > 0),
  mailed boolean NOT NULL,
  letter_id uuid NOT NULL,
  created_at timestamptz NOT NULL,
  PRIMARY KEY (tenant_id, invoice_id, level),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, invoice_id),
  FOREIGN KEY (tenant_id, letter_id) REFERENCES sealed_letters (tenant_id, letter_id)
);
SELECT kluis_isolate_tenant('invoice_reminders');

-- An invoice handed over to a collection agency or bailiff after its formal notice: dunning ends.
CREATE TABLE invoice_collections (
  tenant_id integer NOT NULL,
  invoice_id bigint NOT NULL,
  handed_over_at timestamptz NOT NULL,
  handed_over_by_staff_id bigint NULL,
  PRIMARY KEY (tenant_id, invoice_id),
  FOREIGN KEY (tenant_id, invoice_id) REFERENCES invoices (tenant_id, invoice_id)
);
SELECT kluis_isolate_tenant('invoice_collections');

-- Staff members are data subjects of their own employer: their account rows point at a
-- data_subjects row (subject type `staff`), so the gate, the data map and erasure cover them too.
ALTER TABLE staff_users ADD COLUMN subject_id bigint NULL;
ALTER TABLE staff_users
  ADD CONSTRAINT staff_users_subject_fk FOREIGN KEY (tenant_id, subject_id) REFERENCES data_subjects (tenant_id, subject_id);
CREATE UNIQUE INDEX staff_users_subject ON staff_users (tenant_id, subject_id) WHERE subject_id IS NOT NULL;

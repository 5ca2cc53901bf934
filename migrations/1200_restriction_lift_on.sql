-- Art. 18(3): staff announce the lifting of a restriction to the person first; the restriction
-- ends on this day (Brussels), from which the retention sweep judges the person as usual
-- (docs/decisions/1200). Null: no lifting announced. Processing state, no personal data.
ALTER TABLE data_subjects ADD COLUMN restriction_lift_on date NULL;

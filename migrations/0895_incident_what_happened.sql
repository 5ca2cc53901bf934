-- Attack S19-4, docs/decisions/0895: the Art. 34 letters and the Art. 33 draft said what the
-- public form's anonymous reporter typed. They now say what the privacy officer wrote in the
-- assessment. Kept on every assessment (append-only, 0840) and, the latest, on the incident.
-- Assessments made before this migration have none: the letters wait for a new assessment.
-- Multi-line text without control characters (except tab and line feed) or text-direction
-- overrides and isolates (decision 0396).
ALTER TABLE incident_assessments
  ADD COLUMN what_happened text NULL
    CHECK (length(what_happened) BETWEEN 1 AND 5000
      AND what_happened !~ '[\u0001-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]');
ALTER TABLE incidents
  ADD COLUMN what_happened text NULL
    CHECK (length(what_happened) BETWEEN 1 AND 5000
      AND what_happened !~ '[\u0001-\u0008\u000b-\u001f\u007f\u202a-\u202e\u2066-\u2069]');

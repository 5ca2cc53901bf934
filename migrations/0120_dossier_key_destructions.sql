-- Issue 17: the technical dossier's own data key (owner_kind 'dossier', decision 0090) is never
-- held, so a full erasure destroys it even when the subject's key stays for a legal hold. Until
-- now that destruction was best effort after commit with no record: a crash in between left the
-- dossier key alive. The erasure transaction now records it here too, one row per key scope, and
-- the erasure-finisher job finishes what is pending (decision 0071).
ALTER TABLE subject_key_destructions
  ADD COLUMN key_scope text NOT NULL DEFAULT 'subject' CHECK (key_scope IN ('subject', 'dossier'));
ALTER TABLE subject_key_destructions DROP CONSTRAINT subject_key_destructions_pkey;
ALTER TABLE subject_key_destructions ADD PRIMARY KEY (tenant_id, subject_id, key_scope);

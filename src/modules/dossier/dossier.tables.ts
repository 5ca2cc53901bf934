import type { ColumnType, Generated } from 'kysely';

interface DossierRowBase {
  tenant_id: number;
  subject_id: number;
  /** JSON of the non-secret fields, encrypted under the dossier key. */
  details_enc: Buffer;
  created_by_staff_id: number | null;
  created_at: ColumnType<Date, Date, never>;
  updated_at: Date;
}

export interface DossierAssetsTable extends DossierRowBase {
  asset_id: Generated<number>;
  hostname_bidx: Buffer | null;
  serial_bidx: Buffer | null;
}

export interface DossierCredentialsTable extends DossierRowBase {
  credential_id: Generated<number>;
  password_enc: Buffer | null;
  totp_seed_enc: Buffer | null;
}

export interface DossierFactsTable extends DossierRowBase {
  fact_id: Generated<number>;
}

export interface DossierAttachmentsTable extends DossierRowBase {
  attachment_id: Generated<number>;
  /** Base64 of the file under the dossier key; exactly one of the two once written. */
  content_enc: Buffer | null;
  secret_content_enc: Buffer | null;
  size_bytes: number;
}

export interface DossierShareLinksTable {
  tenant_id: number;
  link_id: Generated<number>;
  token_hash: Buffer;
  subject_id: number;
  credential_id: number;
  field: 'password' | 'totpSeed';
  expires_at: Date;
  viewed_at: Date | null;
  created_by_staff_id: number | null;
  created_at: Date;
}

export interface DossierTables {
  dossier_share_links: DossierShareLinksTable;
  dossier_assets: DossierAssetsTable;
  dossier_credentials: DossierCredentialsTable;
  dossier_facts: DossierFactsTable;
  dossier_attachments: DossierAttachmentsTable;
}

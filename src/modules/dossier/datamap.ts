import type { TableDataMap } from '../../kernel/datamap/datamap.js';

/** The dossier's categories (policy keys; Voxtra declares both, VX-4). */
export const DOSSIER_CATEGORIES = {
  asset: 'kluis.dossier.asset',
  credential: 'kluis.dossier.credential',
} as const;

const C = DOSSIER_CATEGORIES;

const bookkeeping = {
  tenant_id: 'tenant key',
  subject_id: 'internal subject id of the customer',
  created_by_staff_id: 'staff id',
  created_at: 'row bookkeeping',
  updated_at: 'row bookkeeping',
};

/**
 * Every value of the dossier is encrypted under the dossier's own key (keyScope 'dossier'), which
 * a written termination destroys (VX-7); the secrets are masked in reports and exports.
 */
export const dossierDataMap: TableDataMap[] = [
  {
    // Before the credentials it points to (erasure walks the map in order).
    table: 'dossier_share_links',
    module: 'dossier',
    subjectColumn: 'subject_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      field: { category: C.credential },
    },
    notPersonal: {
      tenant_id: 'tenant key',
      link_id: 'internal id',
      token_hash: 'SHA-256 of a random link token',
      subject_id: 'internal subject id of the customer',
      credential_id: 'internal id of the credential',
      expires_at: 'link bookkeeping',
      viewed_at: 'link bookkeeping',
      created_by_staff_id: 'staff id',
      created_at: 'link bookkeeping',
    },
  },
  {
    table: 'dossier_assets',
    module: 'dossier',
    subjectColumn: 'subject_id',
    rowIdColumn: 'asset_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      details_enc: { category: C.asset, encrypted: true, keyScope: 'dossier' },
      hostname_bidx: { category: C.asset, blindIndexOf: 'details_enc' },
      serial_bidx: { category: C.asset, blindIndexOf: 'details_enc' },
    },
    notPersonal: { ...bookkeeping, asset_id: 'internal id' },
    // VK-16: the item's notes (inside the JSON) are typed by staff.
    freeText: { details_enc: 'all' },
  },
  {
    table: 'dossier_credentials',
    module: 'dossier',
    subjectColumn: 'subject_id',
    rowIdColumn: 'credential_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      details_enc: { category: C.credential, encrypted: true, keyScope: 'dossier' },
      password_enc: { category: C.credential, encrypted: true, keyScope: 'dossier', masked: true },
      totp_seed_enc: { category: C.credential, encrypted: true, keyScope: 'dossier', masked: true },
    },
    notPersonal: { ...bookkeeping, credential_id: 'internal id' },
    // VK-16: the item's notes (inside the JSON) are typed by staff.
    freeText: { details_enc: 'all' },
  },
  {
    table: 'dossier_facts',
    module: 'dossier',
    subjectColumn: 'subject_id',
    rowIdColumn: 'fact_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      details_enc: { category: C.asset, encrypted: true, keyScope: 'dossier' },
    },
    notPersonal: { ...bookkeeping, fact_id: 'internal id' },
    // VK-16: the item's notes (inside the JSON) are typed by staff.
    freeText: { details_enc: 'all' },
  },
  {
    // Small attachments (issue 17): content under the dossier key; a secret one is revealed only
    // under the reveal rule and masked in reports.
    table: 'dossier_attachments',
    module: 'dossier',
    subjectColumn: 'subject_id',
    rowIdColumn: 'attachment_id',
    erasure: { kind: 'delete_rows' },
    personal: {
      details_enc: { category: C.asset, encrypted: true, keyScope: 'dossier' },
      content_enc: { category: C.asset, encrypted: true, keyScope: 'dossier' },
      secret_content_enc: { category: C.credential, encrypted: true, keyScope: 'dossier', masked: true },
    },
    notPersonal: { ...bookkeeping, attachment_id: 'internal id', size_bytes: 'file size' },
    // VK-16: the note typed with an attachment.
    freeText: { details_enc: 'all' },
  },
];

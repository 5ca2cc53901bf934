import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { decryptOrHoldBack, type UnreadableRecord } from '../../platform/errors.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';

/** Every dossier value is under the dossier's own key, never the customer's (VX-7). */
const SCOPE = 'dossier' as const;

export interface AssetDetails {
  kind: string;
  brand: string | null;
  model: string | null;
  serial: string | null;
  location: string | null;
  hostname: string | null;
  ipAddress: string | null;
  purchasedOn: string | null;
  warrantyUntil: string | null;
  notes: string | null;
}

export interface CredentialDetails {
  system: string;
  url: string | null;
  username: string | null;
  notes: string | null;
}

export interface FactDetails {
  kind: 'network' | 'licence';
  label: string;
  value: string | null;
  seats: number | null;
  expiresOn: string | null;
  notes: string | null;
}

/**
 * The three item tables of a dossier: assets, credentials, and network facts with licences. They
 * share their shape (an id, the owner, `details_enc`, bookkeeping); the credential adds two secret
 * columns, the asset two blind indexes. Every operation below is one path over this table.
 */
export const ITEM_TABLES = {
  asset: { table: 'dossier_assets', idColumn: 'asset_id', category: C.asset },
  credential: { table: 'dossier_credentials', idColumn: 'credential_id', category: C.credential },
  fact: { table: 'dossier_facts', idColumn: 'fact_id', category: C.asset },
} as const;
export type ItemKind = keyof typeof ITEM_TABLES;
export const ITEM_KINDS = Object.keys(ITEM_TABLES) as ItemKind[];
type ItemTable = (typeof ITEM_TABLES)[ItemKind]['table'];

export interface DetailsOf {
  asset: AssetDetails;
  credential: CredentialDetails;
  fact: FactDetails;
}

/** `details` is null when the dossier key no longer exists (a restored copy of erased rows). */
export interface ItemRecord<K extends ItemKind = ItemKind> {
  kind: K;
  id: number;
  subjectId: number;
  details: DetailsOf[K] | null;
  /** Credentials only (false elsewhere): whether a password / TOTP seed is stored. */
  hasPassword: boolean;
  hasTotp: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type SecretField = 'password' | 'totpSeed';
const SECRET_COLUMN = { password: 'password_enc', totpSeed: 'totp_seed_enc' } as const;
/** A credential's secrets on a write: a value is stored, null removes it, undefined keeps it. */
export type SecretValues = Partial<Record<SecretField, string | null>>;

const ref = (table: ItemTable, column: string, rowId: number) => ({ table, column, rowId: String(rowId) });
const idRef = (kind: ItemKind) => sql.ref<number>(ITEM_TABLES[kind].idColumn);

/** Normalised forms for exact-match search (blind index), so "PRN-01." finds "prn-01". */
export function normaliseHostname(value: string): string {
  return value.trim().toLowerCase().replace(/\.$/, '');
}
export function normaliseSerial(value: string): string {
  return value.toUpperCase().replace(/[\s-]/g, '');
}

export async function hostnameIndex(grant: Grant, hostname: string): Promise<Buffer> {
  return grant.blindIndex(C.asset, 'dossier_hostname', normaliseHostname(hostname));
}
export async function serialIndex(grant: Grant, serial: string): Promise<Buffer> {
  return grant.blindIndex(C.asset, 'dossier_serial', normaliseSerial(serial));
}

/** The blind indexes an item keeps next to its ciphertext (assets only). */
async function indexesOf(
  grant: Grant,
  kind: ItemKind,
  details: DetailsOf[ItemKind],
): Promise<Record<string, Buffer | null>> {
  if (kind !== 'asset') return {};
  const asset = details as AssetDetails;
  return {
    hostname_bidx: asset.hostname === null ? null : await hostnameIndex(grant, asset.hostname),
    serial_bidx: asset.serial === null ? null : await serialIndex(grant, asset.serial),
  };
}

/**
 * Seals an item's details (and a credential's secrets) into its row. The row id is part of each
 * ciphertext's associated data, so a value copied to another row does not decrypt.
 */
async function sealItem<K extends ItemKind>(
  tx: Tx,
  grant: Grant,
  kind: K,
  item: { id: number; subjectId: number; details: DetailsOf[K]; secrets?: SecretValues; at: Date },
): Promise<void> {
  const { table, category } = ITEM_TABLES[kind];
  const seal = (column: string, value: string) =>
    grant.encrypt(category, item.subjectId, ref(table, column, item.id), value, SCOPE);
  const values: Record<string, unknown> = {
    details_enc: await seal('details_enc', JSON.stringify(item.details)),
    updated_at: item.at,
    ...(await indexesOf(grant, kind, item.details)),
  };
  if (kind === 'credential') {
    for (const field of ['password', 'totpSeed'] as const) {
      const value = item.secrets?.[field];
      if (value !== undefined)
        values[SECRET_COLUMN[field]] = value === null ? null : await seal(SECRET_COLUMN[field], value);
    }
  }
  await tx
    .updateTable(table)
    // The columns are those of `table` (indexes for assets, secrets for credentials only).
    .set(values as never)
    .where(idRef(kind), '=', item.id)
    .execute();
}

/** Inserts an item of a subject covered by the grant; returns its id. */
export async function insertItem<K extends ItemKind>(
  tx: Tx,
  grant: Grant,
  kind: K,
  row: {
    subjectId: number;
    details: DetailsOf[K];
    secrets?: SecretValues;
    staffId: number | null;
    at: Date;
  },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(ITEM_TABLES[kind].category, row.subjectId);
  const inserted = await tx
    .insertInto(ITEM_TABLES[kind].table)
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      details_enc: Buffer.alloc(0),
      created_by_staff_id: row.staffId,
      created_at: row.at,
      updated_at: row.at,
    })
    .returning(idRef(kind).as('id'))
    .executeTakeFirstOrThrow();
  await sealItem(tx, grant, kind, { id: inserted.id, ...row });
  return inserted.id;
}

/**
 * Replaces an item's details (and the secrets given) with new ciphertexts under the dossier key;
 * returns false when the subject holds no such item.
 */
export async function updateItem<K extends ItemKind>(
  tx: Tx,
  grant: Grant,
  kind: K,
  item: { id: number; subjectId: number; details: DetailsOf[K]; secrets?: SecretValues; at: Date },
): Promise<boolean> {
  grant.assertWritable();
  grant.assertCovers(ITEM_TABLES[kind].category, item.subjectId);
  if ((await selectItemOwner(tx, kind, item.id)) !== item.subjectId) return false;
  await sealItem(tx, grant, kind, item);
  return true;
}

/** Deletes one item of a subject (a credential's share links go with it); false when none. */
export async function deleteItem(
  tx: Tx,
  grant: Grant,
  kind: ItemKind,
  item: { id: number; subjectId: number },
): Promise<boolean> {
  grant.assertWritable();
  grant.assertCovers(ITEM_TABLES[kind].category, item.subjectId);
  const result = await tx
    .deleteFrom(ITEM_TABLES[kind].table)
    .where(idRef(kind), '=', item.id)
    .where('subject_id', '=', item.subjectId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

/**
 * Items of one subject, or the ones with given ids (all of their owners covered by the grant).
 * With `unreadable`, an item whose details do not open with this key store is left out and named
 * there (a search across customers, decision 1150); without, it fails the read.
 */
export async function selectItems<K extends ItemKind>(
  tx: Tx,
  grant: Grant,
  kind: K,
  filter: { subjectId: number } | { ids: readonly number[] },
  unreadable?: UnreadableRecord[],
): Promise<Array<ItemRecord<K>>> {
  const { table, category } = ITEM_TABLES[kind];
  const secret = (column: string) =>
    kind === 'credential' ? sql<boolean>`${sql.ref(column)} is not null` : sql<boolean>`false`;
  let query = tx
    .selectFrom(table)
    .select([
      idRef(kind).as('id'),
      'subject_id',
      'details_enc',
      'created_at',
      'updated_at',
      secret('password_enc').as('has_password'),
      secret('totp_seed_enc').as('has_totp'),
    ])
    .orderBy(idRef(kind));
  query =
    'subjectId' in filter
      ? query.where('subject_id', '=', filter.subjectId)
      : query.where(idRef(kind), 'in', filter.ids.length > 0 ? [...filter.ids] : [-1]);
  const records: Array<ItemRecord<K>> = [];
  for (const row of await query.execute()) {
    const text = await decryptOrHoldBack(String(row.id), unreadable, () =>
      grant.decrypt(category, row.subject_id, ref(table, 'details_enc', row.id), row.details_enc, SCOPE),
    );
    if (text === undefined) continue;
    records.push({
      kind,
      id: row.id,
      subjectId: row.subject_id,
      // Written only by this repository from a validated shape.
      details: text === null ? null : (JSON.parse(text) as DetailsOf[K]),
      hasPassword: row.has_password,
      hasTotp: row.has_totp,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
  return records;
}

/** The owner of an item (nothing personal is read): for the gate decision before touching it. */
export async function selectItemOwner(tx: Tx, kind: ItemKind, id: number): Promise<number | undefined> {
  const row = await tx
    .selectFrom(ITEM_TABLES[kind].table)
    .select('subject_id')
    .where(idRef(kind), '=', id)
    .executeTakeFirst();
  return row?.subject_id;
}

/** Ids and owners of the assets whose hostname or serial matches exactly (blind index). */
export async function findAssetOwners(
  tx: Tx,
  grant: Grant,
  search: { hostname?: string | undefined; serial?: string | undefined },
): Promise<Array<{ assetId: number; subjectId: number }>> {
  let query = tx
    .selectFrom('dossier_assets')
    .select(['asset_id', 'subject_id'])
    .orderBy('asset_id')
    .limit(100);
  if (search.hostname !== undefined)
    query = query.where('hostname_bidx', '=', await hostnameIndex(grant, search.hostname));
  if (search.serial !== undefined)
    query = query.where('serial_bidx', '=', await serialIndex(grant, search.serial));
  const rows = await query.execute();
  return rows.map((row) => ({ assetId: row.asset_id, subjectId: row.subject_id }));
}

/**
 * One secret of a credential, decrypted: `absent` when the credential has none, `shredded` when
 * the dossier key no longer exists.
 */
export async function selectSecret(
  tx: Tx,
  grant: Grant,
  credentialId: number,
  subjectId: number,
  field: SecretField,
): Promise<{ kind: 'value'; value: string } | { kind: 'absent' } | { kind: 'shredded' }> {
  grant.assertCovers(C.credential, subjectId);
  const column = SECRET_COLUMN[field];
  const row = await tx
    .selectFrom('dossier_credentials')
    .select(['password_enc', 'totp_seed_enc'])
    .where('credential_id', '=', credentialId)
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  const ciphertext = row?.[column];
  if (!ciphertext) return { kind: 'absent' };
  const plain = await grant.decrypt(
    C.credential,
    subjectId,
    ref('dossier_credentials', column, credentialId),
    ciphertext,
    SCOPE,
  );
  return plain === null ? { kind: 'shredded' } : { kind: 'value', value: plain };
}

/** Deletes a subject's whole dossier; returns the rows removed per table. */
export async function deleteDossier(
  tx: Tx,
  grant: Grant,
  subjectId: number,
): Promise<{ assets: number; credentials: number; facts: number; attachments: number }> {
  grant.assertCovers(C.asset, subjectId);
  grant.assertCovers(C.credential, subjectId);
  grant.assertWritable();
  await tx.deleteFrom('dossier_share_links').where('subject_id', '=', subjectId).execute();
  const attachments = await tx
    .deleteFrom('dossier_attachments')
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  const removed = { assets: 0, credentials: 0, facts: 0, attachments: Number(attachments.numDeletedRows) };
  for (const kind of ['credential', 'asset', 'fact'] as const) {
    const result = await tx
      .deleteFrom(ITEM_TABLES[kind].table)
      .where('subject_id', '=', subjectId)
      .executeTakeFirst();
    removed[`${kind}s`] = Number(result.numDeletedRows);
  }
  return removed;
}

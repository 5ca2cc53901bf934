import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';

/** Every dossier value is under the dossier's own key, never the customer's (VX-7). */
const SCOPE = 'dossier' as const;

type DossierTable = 'dossier_assets' | 'dossier_credentials' | 'dossier_facts';
const ref = (table: DossierTable, column: string, rowId: number) => ({ table, column, rowId: String(rowId) });

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

interface RowMeta {
  subjectId: number;
  createdAt: Date;
  updatedAt: Date;
}

/** `details` is null when the dossier key no longer exists (a restored copy of erased rows). */
export interface AssetRecord extends RowMeta {
  assetId: number;
  details: AssetDetails | null;
}
export interface CredentialRecord extends RowMeta {
  credentialId: number;
  details: CredentialDetails | null;
  hasPassword: boolean;
  hasTotp: boolean;
}
export interface FactRecord extends RowMeta {
  factId: number;
  details: FactDetails | null;
}

export type SecretField = 'password' | 'totpSeed';
const SECRET_COLUMN = { password: 'password_enc', totpSeed: 'totp_seed_enc' } as const;

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

async function openJson<T>(
  grant: Grant,
  category: string,
  subjectId: number,
  table: DossierTable,
  rowId: number,
  ciphertext: Buffer,
): Promise<T | null> {
  const text = await grant.decrypt(category, subjectId, ref(table, 'details_enc', rowId), ciphertext, SCOPE);
  // Written only by this repository from a validated shape.
  return text === null ? null : (JSON.parse(text) as T);
}

/**
 * Inserts a row, then sets its ciphertexts: the row id is part of each ciphertext's associated
 * data, so a value copied to another row does not decrypt.
 */
export async function insertAsset(
  tx: Tx,
  grant: Grant,
  row: { subjectId: number; details: AssetDetails; staffId: number | null; at: Date },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(C.asset, row.subjectId);
  const { asset_id: assetId } = await tx
    .insertInto('dossier_assets')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      details_enc: Buffer.alloc(0),
      hostname_bidx: row.details.hostname === null ? null : await hostnameIndex(grant, row.details.hostname),
      serial_bidx: row.details.serial === null ? null : await serialIndex(grant, row.details.serial),
      created_by_staff_id: row.staffId,
      created_at: row.at,
      updated_at: row.at,
    })
    .returning('asset_id')
    .executeTakeFirstOrThrow();
  const details = await grant.encrypt(
    C.asset,
    row.subjectId,
    ref('dossier_assets', 'details_enc', assetId),
    JSON.stringify(row.details),
    SCOPE,
  );
  await tx
    .updateTable('dossier_assets')
    .set({ details_enc: details })
    .where('asset_id', '=', assetId)
    .execute();
  return assetId;
}

export async function insertCredential(
  tx: Tx,
  grant: Grant,
  row: {
    subjectId: number;
    details: CredentialDetails;
    password: string | null;
    totpSeed: string | null;
    staffId: number | null;
    at: Date;
  },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(C.credential, row.subjectId);
  const { credential_id: credentialId } = await tx
    .insertInto('dossier_credentials')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      details_enc: Buffer.alloc(0),
      created_by_staff_id: row.staffId,
      created_at: row.at,
      updated_at: row.at,
    })
    .returning('credential_id')
    .executeTakeFirstOrThrow();
  const seal = (column: string, value: string) =>
    grant.encrypt(
      C.credential,
      row.subjectId,
      ref('dossier_credentials', column, credentialId),
      value,
      SCOPE,
    );
  await tx
    .updateTable('dossier_credentials')
    .set({
      details_enc: await seal('details_enc', JSON.stringify(row.details)),
      password_enc: row.password === null ? null : await seal('password_enc', row.password),
      totp_seed_enc: row.totpSeed === null ? null : await seal('totp_seed_enc', row.totpSeed),
    })
    .where('credential_id', '=', credentialId)
    .execute();
  return credentialId;
}

export async function insertFact(
  tx: Tx,
  grant: Grant,
  row: { subjectId: number; details: FactDetails; staffId: number | null; at: Date },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(C.asset, row.subjectId);
  const { fact_id: factId } = await tx
    .insertInto('dossier_facts')
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      details_enc: Buffer.alloc(0),
      created_by_staff_id: row.staffId,
      created_at: row.at,
      updated_at: row.at,
    })
    .returning('fact_id')
    .executeTakeFirstOrThrow();
  const details = await grant.encrypt(
    C.asset,
    row.subjectId,
    ref('dossier_facts', 'details_enc', factId),
    JSON.stringify(row.details),
    SCOPE,
  );
  await tx.updateTable('dossier_facts').set({ details_enc: details }).where('fact_id', '=', factId).execute();
  return factId;
}

/** Assets of some subjects (all of them covered by the grant), or the ones with given ids. */
export async function selectAssets(
  tx: Tx,
  grant: Grant,
  filter: { subjectId: number } | { assetIds: readonly number[] },
): Promise<AssetRecord[]> {
  let query = tx
    .selectFrom('dossier_assets')
    .select(['asset_id', 'subject_id', 'details_enc', 'created_at', 'updated_at'])
    .orderBy('asset_id');
  query =
    'subjectId' in filter
      ? query.where('subject_id', '=', filter.subjectId)
      : query.where('asset_id', 'in', filter.assetIds.length > 0 ? [...filter.assetIds] : [-1]);
  const rows = await query.execute();
  const records: AssetRecord[] = [];
  for (const row of rows) {
    records.push({
      assetId: row.asset_id,
      subjectId: row.subject_id,
      details: await openJson<AssetDetails>(
        grant,
        C.asset,
        row.subject_id,
        'dossier_assets',
        row.asset_id,
        row.details_enc,
      ),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
  return records;
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

/** Credentials of a subject, secrets left out (only whether they exist). */
export async function selectCredentials(
  tx: Tx,
  grant: Grant,
  subjectId: number,
): Promise<CredentialRecord[]> {
  grant.assertCovers(C.credential, subjectId);
  const rows = await tx
    .selectFrom('dossier_credentials')
    .select([
      'credential_id',
      'subject_id',
      'details_enc',
      'created_at',
      'updated_at',
      sql<boolean>`password_enc is not null`.as('has_password'),
      sql<boolean>`totp_seed_enc is not null`.as('has_totp'),
    ])
    .where('subject_id', '=', subjectId)
    .orderBy('credential_id')
    .execute();
  const records: CredentialRecord[] = [];
  for (const row of rows) {
    records.push({
      credentialId: row.credential_id,
      subjectId: row.subject_id,
      details: await openJson<CredentialDetails>(
        grant,
        C.credential,
        row.subject_id,
        'dossier_credentials',
        row.credential_id,
        row.details_enc,
      ),
      hasPassword: row.has_password,
      hasTotp: row.has_totp,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
  return records;
}

export async function selectFacts(tx: Tx, grant: Grant, subjectId: number): Promise<FactRecord[]> {
  grant.assertCovers(C.asset, subjectId);
  const rows = await tx
    .selectFrom('dossier_facts')
    .select(['fact_id', 'subject_id', 'details_enc', 'created_at', 'updated_at'])
    .where('subject_id', '=', subjectId)
    .orderBy('fact_id')
    .execute();
  const records: FactRecord[] = [];
  for (const row of rows) {
    records.push({
      factId: row.fact_id,
      subjectId: row.subject_id,
      details: await openJson<FactDetails>(
        grant,
        C.asset,
        row.subject_id,
        'dossier_facts',
        row.fact_id,
        row.details_enc,
      ),
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    });
  }
  return records;
}

/** The owner of a credential (no secret is read): for the gate decision before the reveal. */
export async function selectCredentialOwner(tx: Tx, credentialId: number): Promise<number | undefined> {
  const row = await tx
    .selectFrom('dossier_credentials')
    .select('subject_id')
    .where('credential_id', '=', credentialId)
    .executeTakeFirst();
  return row?.subject_id;
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
): Promise<{ assets: number; credentials: number; facts: number }> {
  grant.assertCovers(C.asset, subjectId);
  grant.assertCovers(C.credential, subjectId);
  grant.assertWritable();
  const count = (result: { numDeletedRows: bigint }) => Number(result.numDeletedRows);
  await tx.deleteFrom('dossier_share_links').where('subject_id', '=', subjectId).execute();
  const credentials = count(
    await tx.deleteFrom('dossier_credentials').where('subject_id', '=', subjectId).executeTakeFirst(),
  );
  const assets = count(
    await tx.deleteFrom('dossier_assets').where('subject_id', '=', subjectId).executeTakeFirst(),
  );
  const facts = count(
    await tx.deleteFrom('dossier_facts').where('subject_id', '=', subjectId).executeTakeFirst(),
  );
  return { assets, credentials, facts };
}

import type pg from 'pg';
import type { TableDataMap } from '../kernel/datamap/datamap.js';
import { openField } from '../kernel/keyring/field-cipher.js';
import { KeyUnwrapError, type KeyManagementService } from '../kernel/keyring/kms.js';
import { quoteIdent } from './catalog.js';

/** Encrypted data whose data key a key store does not hold: it could never be read again. */
export interface MissingKeys {
  /** Data subjects (people, staff, …) with at least one encrypted field and no data key. */
  subjects: number;
  tenants: number;
}

type KeyScope = 'subject' | 'dossier';

/**
 * Which data subjects hold encrypted fields in `data` (walking the data map's encrypted columns)
 * for which `keys` holds no data-key row at all, destroyed or not (attack S22-3, decision 1050).
 * A destroyed key is an erasure and is fine; a missing one is a key store older than the data.
 * Both clients must be inside a transaction: the tenant is set per query (forced row-level
 * security binds the owner too).
 */
export async function findSubjectsWithoutKeys(
  data: pg.ClientBase,
  keys: pg.ClientBase,
  map: readonly TableDataMap[],
): Promise<MissingKeys> {
  const tenantIds = await readTenantIds(data);
  const sources = await readEncryptedSources(data, map);
  const missing: MissingKeys = { subjects: 0, tenants: 0 };
  for (const tenantId of tenantIds) {
    await setTenant(data, tenantId);
    await setTenant(keys, tenantId);
    const bySubject = new Map<KeyScope, Set<string>>();
    for (const source of sources) {
      const { rows } = await data.query<{ ref: string }>(
        `select distinct ${quoteIdent(source.subjectColumn)}::text as ref from ${quoteIdent(source.table)}
          where tenant_id = $1 and ${quoteIdent(source.subjectColumn)} is not null
            and (${source.columns.map((column) => `${quoteIdent(column)} is not null`).join(' or ')})`,
        [tenantId],
      );
      const refs = bySubject.get(source.scope) ?? new Set<string>();
      for (const row of rows) refs.add(row.ref);
      bySubject.set(source.scope, refs);
    }
    const lacking = new Set<string>();
    for (const [scope, refs] of bySubject) {
      if (refs.size === 0) continue;
      const { rows } = await keys.query<{ ref: string }>(
        `select r.ref from unnest($2::text[]) as r(ref)
          where not exists (select from data_keys k
                             where k.tenant_id = $1 and k.owner_kind = $3 and k.owner_ref = r.ref)`,
        [tenantId, [...refs], scope],
      );
      for (const row of rows) lacking.add(row.ref);
    }
    if (lacking.size > 0) {
      missing.subjects += lacking.size;
      missing.tenants += 1;
    }
  }
  return missing;
}

async function setTenant(client: pg.ClientBase, tenantId: number): Promise<void> {
  await client.query(`select set_config('app.tenant', $1, true)`, [String(tenantId)]);
}

async function readTenantIds(client: pg.ClientBase): Promise<number[]> {
  const exists = await client.query<{ ok: boolean }>(
    `select to_regclass('public.tenants') is not null as ok`,
  );
  if (!exists.rows[0]?.ok) return [];
  const { rows } = await client.query<{ id: number }>('select tenant_id as id from tenants order by 1');
  return rows.map((row) => row.id);
}

interface EncryptedSource {
  table: string;
  subjectColumn: string;
  /** Bound into each field's associated data; absent only for a table the data map got wrong. */
  rowIdColumn: string | undefined;
  scope: KeyScope;
  columns: string[];
}

/**
 * The data map's encrypted columns grouped by table and key, limited to the columns the database
 * has: a restored archive has the schema of its migration level, which may lack later columns.
 */
async function readEncryptedSources(
  client: pg.ClientBase,
  map: readonly TableDataMap[],
): Promise<EncryptedSource[]> {
  const { rows } = await client.query<{ table: string; column: string }>(
    `select c.relname as table, a.attname as column
       from pg_attribute a join pg_class c on c.oid = a.attrelid
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
        and a.attnum > 0 and not a.attisdropped`,
  );
  const present = new Set(rows.map((row) => `${row.table}.${row.column}`));
  const sources: EncryptedSource[] = [];
  for (const table of map) {
    const subjectColumn = table.subjectColumn;
    if (!subjectColumn || !present.has(`${table.table}.${subjectColumn}`)) continue;
    if (!present.has(`${table.table}.tenant_id`)) continue;
    for (const scope of ['subject', 'dossier'] as const) {
      const columns = Object.entries(table.personal)
        .filter(([, declared]) => declared.encrypted === true && (declared.keyScope ?? 'subject') === scope)
        .map(([column]) => column)
        .filter((column) => present.has(`${table.table}.${column}`));
      if (columns.length > 0)
        sources.push({ table: table.table, subjectColumn, rowIdColumn: table.rowIdColumn, scope, columns });
    }
  }
  return sources;
}

/** The outcome of opening a sample of encrypted fields with a key store and master key. */
export interface FieldSample {
  /** Fields whose data key is live in the key store and that were tried. */
  checked: number;
  /** Of those, the fields that did not open. */
  unreadable: number;
  /** Tenants with at least one field that did not open. */
  tenants: number;
  /** Data keys that did not unwrap: the key store was made under another master key. */
  unwrapFailures: number;
}

/** Rows tried per table and tenant: a few suffice, a data key of another installation opens none. */
const SAMPLE_ROWS = 3;

/**
 * Opens a sample of encrypted fields in `data` (a few rows per encrypted table and tenant) with
 * the data keys `keys` holds, unwrapped with `kms` (attack S23-3, decision 1120). Equal numbering
 * of subjects and tenants lets another installation's data pass the coverage check; its fields
 * open with none of this key store's keys. Fields whose key is missing (the coverage check's
 * business) or destroyed (an erasure) are not tried. Both clients must be inside a transaction.
 */
export async function sampleFieldsWithKeys(
  data: pg.ClientBase,
  keys: pg.ClientBase,
  map: readonly TableDataMap[],
  kms: KeyManagementService,
): Promise<FieldSample> {
  const tenantIds = await readTenantIds(data);
  const sources = (await readEncryptedSources(data, map)).filter((source) => source.rowIdColumn);
  const sample: FieldSample = { checked: 0, unreadable: 0, tenants: 0, unwrapFailures: 0 };
  for (const tenantId of tenantIds) {
    await setTenant(data, tenantId);
    await setTenant(keys, tenantId);
    let unreadableHere = 0;
    for (const source of sources) {
      const rowIdColumn = source.rowIdColumn ?? '';
      const { rows } = await data.query<Record<string, unknown> & { subject: string; row_id: string }>(
        `select ${quoteIdent(source.subjectColumn)}::text as subject, ${quoteIdent(rowIdColumn)}::text as row_id,
                ${source.columns.map(quoteIdent).join(', ')}
           from ${quoteIdent(source.table)}
          where tenant_id = $1 and ${quoteIdent(source.subjectColumn)} is not null
            and (${source.columns.map((column) => `${quoteIdent(column)} is not null`).join(' or ')})
          order by ${quoteIdent(rowIdColumn)} limit ${SAMPLE_ROWS}`,
        [tenantId],
      );
      for (const row of rows) {
        const { rows: found } = await keys.query<{ kek_version: number; wrapped: Buffer | null }>(
          `select kek_version, wrapped from data_keys where tenant_id = $1 and owner_kind = $2 and owner_ref = $3`,
          [tenantId, source.scope, row.subject],
        );
        const wrapped = found[0]?.wrapped;
        if (!found[0] || !wrapped) continue;
        let key: Buffer | undefined;
        try {
          key = await kms.unwrap(tenantId, found[0].kek_version, `${source.scope}:${row.subject}`, wrapped);
        } catch (cause) {
          if (!(cause instanceof KeyUnwrapError)) throw cause;
          sample.unwrapFailures += 1;
        }
        for (const column of source.columns) {
          const ciphertext = row[column];
          if (!Buffer.isBuffer(ciphertext)) continue;
          sample.checked += 1;
          const ref = { table: source.table, column, rowId: row.row_id };
          if (key === undefined || openField(key, tenantId, ref, ciphertext) === undefined) {
            sample.unreadable += 1;
            unreadableHere += 1;
          }
        }
      }
    }
    if (unreadableHere > 0) sample.tenants += 1;
  }
  return sample;
}

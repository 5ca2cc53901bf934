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
  /** The subject column's SQL type (from the catalog), to compare it with key-store refs by index. */
  subjectType: string;
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
  const { rows } = await client.query<{ table: string; column: string; type: string }>(
    `select c.relname as table, a.attname as column, format_type(a.atttypid, a.atttypmod) as type
       from pg_attribute a join pg_class c on c.oid = a.attrelid
      where c.relnamespace = 'public'::regnamespace and c.relkind in ('r', 'p') and not c.relispartition
        and a.attnum > 0 and not a.attisdropped`,
  );
  const types = new Map(rows.map((row) => [`${row.table}.${row.column}`, row.type]));
  const present = new Set(types.keys());
  const sources: EncryptedSource[] = [];
  for (const table of map) {
    const subjectColumn = table.subjectColumn;
    const subjectType = subjectColumn && types.get(`${table.table}.${subjectColumn}`);
    if (!subjectColumn || !subjectType) continue;
    if (!present.has(`${table.table}.tenant_id`)) continue;
    for (const scope of ['subject', 'dossier'] as const) {
      const columns = Object.entries(table.personal)
        .filter(([, declared]) => declared.encrypted === true && (declared.keyScope ?? 'subject') === scope)
        .map(([column]) => column)
        .filter((column) => present.has(`${table.table}.${column}`));
      if (columns.length > 0)
        sources.push({
          table: table.table,
          subjectColumn,
          subjectType,
          rowIdColumn: table.rowIdColumn,
          scope,
          columns,
        });
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

/**
 * Rows tried per table and tenant from each of three ends: the oldest, the newest, and the newest
 * of the subjects whose data keys were made last. At most 3 × 3 rows, however large the table.
 */
const SAMPLE_ROWS = 3;

/**
 * Data keys per tenant and scope, newest first, whose subjects' rows are tried: a copy that went
 * its own way since it was restored made its own keys for its own new people, and those are its
 * newest (attack S23B-3). More than a few, as a key store backed up after the data holds keys of
 * people the data does not have yet.
 */
const NEWEST_KEYS = 20;

const NUMERIC_TYPES: ReadonlySet<string> = new Set(['smallint', 'integer', 'bigint']);

type SampledRow = Record<string, unknown> & { subject: string; row_id: string };

/**
 * Opens a sample of encrypted fields in `data` with the data keys `keys` holds, unwrapped with
 * `kms` (attack S23-3, decision 1120): per encrypted table and tenant, the oldest rows, the newest
 * rows, and the rows of the subjects whose data keys in `keys` are newest (attack S23B-3, decision
 * 1150). Equal numbering of subjects and tenants lets another installation's data pass the
 * coverage check, and a copy restored from this installation shares its old keys; their new
 * fields open with none of this key store's keys, whichever side is restored. Fields whose key is
 * missing (the coverage check's business) or destroyed (an erasure; `compareErasureJournal` tells
 * whose) are not tried. Both clients must be inside a transaction.
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
    const newestKeys = new Map<KeyScope, string[]>();
    for (const scope of new Set(sources.map((source) => source.scope))) {
      newestKeys.set(scope, await readNewestKeyRefs(keys, tenantId, scope));
    }
    let unreadableHere = 0;
    for (const source of sources) {
      const rows = await readSampleRows(data, tenantId, source, newestKeys.get(source.scope) ?? []);
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

/**
 * The owners of the tenant's newest live data keys of a scope. Keys made in one statement share
 * their time; then the longer (numerically larger) subject number counts as newer.
 */
async function readNewestKeyRefs(keys: pg.ClientBase, tenantId: number, scope: KeyScope): Promise<string[]> {
  const { rows } = await keys.query<{ ref: string }>(
    `select owner_ref as ref from data_keys
      where tenant_id = $1 and owner_kind = $2 and wrapped is not null
      order by created_at desc, length(owner_ref) desc, owner_ref desc limit ${NEWEST_KEYS}`,
    [tenantId, scope],
  );
  return rows.map((row) => row.ref);
}

/** The table's sample rows of one tenant (oldest, newest, newest keys' subjects), each row once. */
async function readSampleRows(
  data: pg.ClientBase,
  tenantId: number,
  source: EncryptedSource,
  newestKeyRefs: readonly string[],
): Promise<SampledRow[]> {
  const rowId = quoteIdent(source.rowIdColumn ?? '');
  const subject = quoteIdent(source.subjectColumn);
  const select = `select ${subject}::text as subject, ${rowId}::text as row_id, ${source.columns.map(quoteIdent).join(', ')}
      from ${quoteIdent(source.table)}
     where tenant_id = $1 and ${subject} is not null
       and (${source.columns.map((column) => `${quoteIdent(column)} is not null`).join(' or ')})`;
  const batches = [
    await data.query<SampledRow>(`${select} order by ${rowId} limit ${SAMPLE_ROWS}`, [tenantId]),
    await data.query<SampledRow>(`${select} order by ${rowId} desc limit ${SAMPLE_ROWS}`, [tenantId]),
  ];
  // A numeric subject column is compared as a number, so that its index finds the rows (no scan).
  const numeric = NUMERIC_TYPES.has(source.subjectType);
  const refs = numeric ? newestKeyRefs.filter((ref) => /^\d{1,18}$/.test(ref)) : newestKeyRefs;
  if (refs.length > 0) {
    const match = numeric ? `${subject} = any($2::bigint[])` : `${subject}::text = any($2::text[])`;
    batches.push(
      await data.query<SampledRow>(`${select} and ${match} order by ${rowId} desc limit ${SAMPLE_ROWS}`, [
        tenantId,
        refs,
      ]),
    );
  }
  const rows = new Map<string, SampledRow>();
  for (const batch of batches) for (const row of batch.rows) rows.set(row.row_id, row);
  return [...rows.values()];
}

/** What comparing the key store's erasure journal with the data's subjects found. */
export interface JournalComparison {
  /** Journalled (erased) subjects the data holds too, whose creation times were compared. */
  checked: number;
  /** Of those, subjects the data holds with another creation time: another person, same number. */
  others: number;
  /** Tenants with at least one such subject. */
  tenants: number;
}

/** Journal lines compared per round trip (decision 1240, amended after attack S25-10). */
const JOURNAL_PAGE = 5_000;

/**
 * Compares the erasure journal of `keys` with the subjects of `data` (attack S24-3, decision
 * 1240): a journal line names an erased subject by number and creation time, and a subject
 * number is never handed out twice in one installation (the restore moves the sequence past the
 * journal), so a subject the data holds under a journalled number with another creation time is
 * another person. Then the data and the key store are of different installations, or of copies
 * that went their own way since; typically the key store destroyed its own person's key, so the
 * data's person would lose every encrypted field, which the sample of fields cannot see (a
 * destroyed key is not tried). Per tenant, every journal line is compared with the data's subject
 * of that number, 5,000 by primary key per round trip (attack S25-10: windows of the newest lines
 * missed a fork between another tenant's numbers). A subject the data does not hold (erased and
 * gone, or newer than the data) is not compared.
 * Both clients must be inside a transaction.
 */
export async function compareErasureJournal(
  data: pg.ClientBase,
  keys: pg.ClientBase,
): Promise<JournalComparison> {
  const comparison: JournalComparison = { checked: 0, others: 0, tenants: 0 };
  if (!(await hasTable(data, 'data_subjects')) || !(await hasTable(keys, 'erasure_journal')))
    return comparison;
  for (const tenantId of await readTenantIds(data)) {
    await setTenant(data, tenantId);
    await setTenant(keys, tenantId);
    // Every journal line, page by page (attack S25-10: windows of the newest lines missed a fork
    // whose numbers lay between another tenant's, the sequence being shared by all tenants).
    let othersHere = 0;
    let after = '0';
    for (;;) {
      const { rows: entries } = await keys.query<{ id: string; created_at: Date }>(
        `select subject_id::text as id, subject_created_at as created_at from erasure_journal
          where tenant_id = $1 and subject_id > $2::bigint order by subject_id limit ${JOURNAL_PAGE}`,
        [tenantId, after],
      );
      const last = entries.at(-1);
      if (!last) break;
      after = last.id;
      const { rows: subjects } = await data.query<{ id: string; created_at: Date }>(
        `select subject_id::text as id, created_at from data_subjects
          where tenant_id = $1 and subject_id = any($2::bigint[])`,
        [tenantId, entries.map((entry) => entry.id)],
      );
      // Compared as the erasure journal's replay compares them (milliseconds, as both were written).
      const createdAt = new Map(subjects.map((subject) => [subject.id, subject.created_at.getTime()]));
      for (const entry of entries) {
        const made = createdAt.get(entry.id);
        if (made === undefined) continue;
        comparison.checked += 1;
        if (made !== entry.created_at.getTime()) othersHere += 1;
      }
    }
    comparison.others += othersHere;
    if (othersHere > 0) comparison.tenants += 1;
  }
  return comparison;
}

async function hasTable(client: pg.ClientBase, table: string): Promise<boolean> {
  const { rows } = await client.query<{ ok: boolean }>(`select to_regclass($1) is not null as ok`, [
    `public.${table}`,
  ]);
  return rows[0]?.ok === true;
}

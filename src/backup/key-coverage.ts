import type pg from 'pg';
import type { TableDataMap } from '../kernel/datamap/datamap.js';
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
      if (columns.length > 0) sources.push({ table: table.table, subjectColumn, scope, columns });
    }
  }
  return sources;
}

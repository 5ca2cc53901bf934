import type pg from 'pg';

export interface TableInfo {
  name: string;
  columns: string[];
  hasTenantId: boolean;
  /** FORCE ROW LEVEL SECURITY: the owner too sees only the transaction's tenant. */
  forcedRls: boolean;
  estimatedRows: number;
}

/** What a logical backup needs to know of a database's `public` schema, from the catalogue. */
export async function readTables(client: pg.ClientBase): Promise<TableInfo[]> {
  const { rows } = await client.query<{
    name: string;
    forced: boolean;
    estimate: string;
    columns: string[];
  }>(
    `select c.relname as name, c.relforcerowsecurity as forced, greatest(c.reltuples, 0)::bigint as estimate,
            array(select a.attname::text from pg_attribute a
                   where a.attrelid = c.oid and a.attnum > 0 and not a.attisdropped and a.attgenerated = ''
                   order by a.attnum) as columns
       from pg_class c join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relkind in ('r', 'p') and not c.relispartition
        and c.relname <> 'schema_migrations'`,
  );
  const { rows: edges } = await client.query<{ child: string; parent: string }>(
    `select c.relname as child, p.relname as parent
       from pg_constraint k join pg_class c on c.oid = k.conrelid join pg_class p on p.oid = k.confrelid
      where k.contype = 'f' and k.connamespace = 'public'::regnamespace and not c.relispartition`,
  );
  const tables = rows.map((row) => ({
    name: row.name,
    columns: row.columns,
    hasTenantId: row.columns.includes('tenant_id'),
    forcedRls: row.forced,
    estimatedRows: Number(row.estimate),
  }));
  return inDependencyOrder(tables, edges);
}

/** Parents before children (foreign keys), ties by name, so a plain COPY FROM never misses a parent. */
export function inDependencyOrder<T extends { name: string }>(
  tables: readonly T[],
  edges: ReadonlyArray<{ child: string; parent: string }>,
): T[] {
  const byName = new Map(tables.map((table) => [table.name, table]));
  const parents = new Map<string, Set<string>>(tables.map((table) => [table.name, new Set<string>()]));
  for (const edge of edges) {
    if (edge.child !== edge.parent && byName.has(edge.child) && byName.has(edge.parent)) {
      parents.get(edge.child)?.add(edge.parent);
    }
  }
  const ordered: T[] = [];
  const done = new Set<string>();
  while (ordered.length < tables.length) {
    const ready = [...parents.entries()]
      .filter(([name, of]) => !done.has(name) && [...of].every((parent) => done.has(parent)))
      .map(([name]) => name)
      .sort();
    if (ready.length === 0) throw new Error('foreign keys form a cycle; cannot order the tables');
    for (const name of ready) {
      done.add(name);
      const table = byName.get(name);
      if (table) ordered.push(table);
    }
  }
  return ordered;
}

export async function readPartitions(
  client: pg.ClientBase,
): Promise<Array<{ name: string; parent: string; bound: string }>> {
  const { rows } = await client.query<{ name: string; parent: string; bound: string }>(
    `select c.relname as name, p.relname as parent, pg_get_expr(c.relpartbound, c.oid) as bound
       from pg_inherits i
       join pg_class c on c.oid = i.inhrelid
       join pg_class p on p.oid = i.inhparent
       join pg_namespace n on n.oid = c.relnamespace
      where n.nspname = 'public' and c.relispartition and c.relkind in ('r', 'p')
      order by c.relname`,
  );
  return rows;
}

export async function readSequences(
  client: pg.ClientBase,
): Promise<Array<{ name: string; lastValue: number | null }>> {
  const { rows } = await client.query<{ name: string; last_value: string | null }>(
    `select sequencename as name, last_value from pg_sequences where schemaname = 'public' order by 1`,
  );
  return rows.map((row) => ({
    name: row.name,
    lastValue: row.last_value === null ? null : Number(row.last_value),
  }));
}

/** Superusers and BYPASSRLS roles see every row whatever the policies say. */
export async function bypassesRls(client: pg.ClientBase): Promise<boolean> {
  const { rows } = await client.query<{ bypass: boolean }>(
    'select rolsuper or rolbypassrls as bypass from pg_roles where rolname = current_user',
  );
  return rows[0]?.bypass ?? false;
}

export function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

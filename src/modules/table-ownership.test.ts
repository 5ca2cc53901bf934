import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * A module owns its tables; another module reaches them through the owner's index.ts, never by
 * naming them in a query (house rule; decision 0530). The tables a module owns are the keys of the
 * `…Tables` interfaces in its `*.tables.ts`.
 */
const MODULES_DIR = join(import.meta.dirname);
const MIGRATIONS_DIR = join(import.meta.dirname, '..', '..', 'migrations');
const SRC_DIR = join(import.meta.dirname, '..');

/**
 * `tenants` is the root every table's tenant_id refers to, read by the kernel (kernel.tenants) on
 * every request; a module may join it for the tenant's slug without a second round trip.
 */
const SHARED_TABLES: ReadonlySet<string> = new Set(['tenants']);

/**
 * Queries that still name another module's table, as `file: table`. This list may only shrink.
 * The invoice run's set-based statements join what telephony and contracts publish through their
 * index.ts as relations (CALL_TOTALS, CALLS, CONTRACTS, CONTRACT_LINES; decision 0552).
 */
const KNOWN_CROSSINGS: readonly string[] = [];

function tablesOf(source: string): string[] {
  const tables: string[] = [];
  for (const block of source.matchAll(/export interface \w*Tables\b[^{]*\{([^}]*)\}/g))
    for (const key of (block[1] ?? '').matchAll(/^\s+([a-z_]+)\??:/gm)) if (key[1]) tables.push(key[1]);
  return tables;
}

function filesUnder(dir: string, keep: (name: string) => boolean): string[] {
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .filter(keep)
    .map((name) => join(dir, name));
}

/** Table name → owning module (folder under src/modules), or `kernel` for the rest of src. */
function owners(): Map<string, string> {
  const owner = new Map<string, string>();
  for (const module of readdirSync(MODULES_DIR, { withFileTypes: true }).filter((e) => e.isDirectory()))
    for (const file of filesUnder(join(MODULES_DIR, module.name), (n) => n.endsWith('.tables.ts')))
      for (const table of tablesOf(readFileSync(file, 'utf8'))) owner.set(table, module.name);
  // The kernel's and the HTTP layer's own tables: not a module's, so not checked as crossings here.
  for (const file of filesUnder(SRC_DIR, (n) => n.endsWith('.tables.ts') && !n.startsWith('modules')))
    for (const table of tablesOf(readFileSync(file, 'utf8'))) owner.set(table, 'kernel');
  return owner;
}

/** Comments say things like "read from contracts"; only code counts. */
function withoutComments(source: string): string {
  return source.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
}

/** The tables a piece of module code names in a query: Kysely's builders and raw SQL. */
function tablesNamedIn(source: string, tables: Iterable<string>): string[] {
  const code = withoutComments(source);
  const named: string[] = [];
  for (const table of tables) {
    const builder = new RegExp(
      String.raw`\b(selectFrom|insertInto|updateTable|deleteFrom|mergeInto|innerJoin|leftJoin|rightJoin|fullJoin)\(\s*['"]${table}(\s+as\s+\w+)?['"]`,
    );
    const raw = new RegExp(
      String.raw`\b(from|join|into|update|copy|table)\s+(only\s+)?(kluis\.)?${table}\b(?!['"\w])`,
      'i',
    );
    if (builder.test(code) || raw.test(code)) named.push(table);
  }
  return named;
}

function crossings(): string[] {
  const owner = owners();
  const found: string[] = [];
  for (const module of readdirSync(MODULES_DIR, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const dir = join(MODULES_DIR, module.name);
    const files = filesUnder(dir, (n) => n.endsWith('.ts') && !/\.test\.ts$|test-helpers\.ts$/.test(n));
    for (const file of files) {
      const foreign = [...owner.keys()].filter(
        (table) => ![module.name, 'kernel'].includes(owner.get(table) ?? ''),
      );
      for (const table of tablesNamedIn(readFileSync(file, 'utf8'), foreign))
        if (!SHARED_TABLES.has(table)) found.push(`${module.name}/${file.slice(dir.length + 1)}: ${table}`);
    }
  }
  return found.sort();
}

describe('module table ownership (house rule: modules talk through index.ts, not tables)', () => {
  it('every table a migration creates is owned: it is a key of one module’s or the kernel’s …Tables interface', () => {
    const owner = owners();
    const created = new Set<string>();
    for (const file of readdirSync(MIGRATIONS_DIR).filter((name) => name.endsWith('.sql')))
      for (const match of readFileSync(join(MIGRATIONS_DIR, file), 'utf8').matchAll(
        /create table (?:if not exists )?(?:kluis\.)?([a-z_]+)/gi,
      ))
        if (match[1]) created.add(match[1]);
    expect([...created].filter((table) => !owner.has(table))).toEqual([]);
  });

  it('no module names another module’s table in a query, beyond the known crossings (a list that may only shrink)', () => {
    const found = crossings();
    expect(found.filter((crossing) => !KNOWN_CROSSINGS.includes(crossing))).toEqual([]);
    expect(KNOWN_CROSSINGS.filter((crossing) => !found.includes(crossing))).toEqual([]);
  });

  it('the check sees Kysely builders, aliases and raw SQL, and not comments or other words', () => {
    const tables = ['contracts', 'invoices'];
    expect(tablesNamedIn(`tx.selectFrom('contracts as c')`, tables)).toEqual(['contracts']);
    expect(tablesNamedIn('sql`select 1 from invoices where x`', tables)).toEqual(['invoices']);
    expect(tablesNamedIn('sql`select 1 from a join contracts c on true`', tables)).toEqual(['contracts']);
    expect(tablesNamedIn('// read from contracts\n/* join invoices */', tables)).toEqual([]);
    expect(tablesNamedIn(`tx.selectFrom('contracts_archive')`, tables)).toEqual([]);
  });
});

import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { DATA_MAP } from '../../modules/data-map.js';
import { parsePolicy } from '../policy/policy.loader.js';
import { findDataMapProblems, type TableDataMap } from './datamap.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => database.close());

/** Tables outside the tenant data model: the migration ledger only. */
const UNMAPPED_TABLES = new Set(['schema_migrations']);

async function liveColumns(ownerUrl: string): Promise<Map<string, string[]>> {
  const result = await runAsOwner<{ table_name: string; column_name: string }>(
    ownerUrl,
    `select c.table_name, c.column_name from information_schema.columns c
       join pg_class t on t.relname = c.table_name join pg_namespace n on n.oid = t.relnamespace and n.nspname = c.table_schema
      where c.table_schema = 'public' and t.relkind in ('r', 'p') and not t.relispartition
      order by c.table_name, c.ordinal_position`,
  );
  const tables = new Map<string, string[]>();
  for (const row of result.rows)
    tables.set(row.table_name, [...(tables.get(row.table_name) ?? []), row.column_name]);
  return tables;
}

/** Every column of every live table must be classified as personal or explicitly not personal. */
function findUnclassified(live: Map<string, string[]>, maps: readonly TableDataMap[]): string[] {
  const problems: string[] = [];
  for (const [table, columns] of live) {
    if (UNMAPPED_TABLES.has(table)) continue;
    const map = maps.find((candidate) => candidate.table === table);
    if (!map) {
      problems.push(`${table}: no data map`);
      continue;
    }
    for (const column of columns) {
      if (!(column in map.personal) && !(column in map.notPersonal))
        problems.push(`${table}.${column}: not classified`);
    }
  }
  for (const map of maps) {
    const columns = live.get(map.table);
    if (!columns) {
      problems.push(`${map.table}: in the data map but not in the database`);
      continue;
    }
    for (const column of [...Object.keys(map.personal), ...Object.keys(map.notPersonal)]) {
      if (!columns.includes(column))
        problems.push(`${map.table}.${column}: in the data map but not in the database`);
    }
  }
  return problems;
}

describe('data map (VK-2: nothing personal is stored that the policy does not declare)', () => {
  it('VK-2: every column of every table is classified as personal or not personal', async () => {
    expect(findUnclassified(await liveColumns(database.ownerUrl), DATA_MAP)).toEqual([]);
  });

  it('VK-2: every classified category is declared by the seed policies (docs/decisions/0005)', async () => {
    const policies = await Promise.all(
      ['voiceking', 'voxtra'].map(async (name) => {
        const file = path.join(ROOT, 'policies', `${name}.yaml`);
        return { name, policy: parsePolicy(await readFile(file, 'utf8'), file) };
      }),
    );
    const undeclared: string[] = [];
    const perTenant: string[] = [];
    for (const map of DATA_MAP) {
      for (const [column, personal] of Object.entries(map.personal)) {
        const declaredBy = policies
          .filter(({ policy }) => policy.categories[personal.category] !== undefined)
          .map(({ name }) => name);
        if (declaredBy.length === 0) undeclared.push(`${map.table}.${column} → ${personal.category}`);
        else if (declaredBy.length < policies.length)
          perTenant.push(`${map.table}.${column} → ${personal.category} (${declaredBy.join(', ')} only)`);
      }
    }
    // A category no policy declares is a mistake in the data map (a typo, or data nobody promised).
    expect(undeclared).toEqual([]);
    // A category only one provider declares is refused by the gate for the other (gate.test.ts,
    // "gender at Voxtra"); these are the columns where that applies, kept visible on purpose.
    expect(perTenant).toEqual([
      'people.gender → user.demographic.gender (voiceking only)',
      'people.preferred_language → user.demographic.language (voiceking only)',
      'people.job_title → user.job_title (voiceking only)',
      'people.job_function → user.job_title (voiceking only)',
      'people.decision_authority → user.job_title (voiceking only)',
    ]);
  });

  it('each declaration is consistent: subject column, erasure rule, blind indexes, row ids', () => {
    expect(DATA_MAP.flatMap(findDataMapProblems)).toEqual([]);
  });

  it('the check fails on a column nobody classified', async () => {
    await runAsOwner(database.ownerUrl, 'alter table people add column nickname text');
    const problems = findUnclassified(await liveColumns(database.ownerUrl), DATA_MAP);
    expect(problems).toEqual(['people.nickname: not classified']);
    await runAsOwner(database.ownerUrl, 'alter table people drop column nickname');
  });
});

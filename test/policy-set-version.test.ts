import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import type { Tenant } from '../src/modules/tenants/index.js';
import { ROOT, runCli } from './cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from './database.js';
import { createPolicyTenant, createTestKernel } from './kernel.js';

let database: TestDatabase;
let kernel: Kernel;
let voiceking: Tenant;
let dir: string;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  dir = await mkdtemp(path.join(tmpdir(), 'kluis-policy-set-'));
});
afterAll(async () => {
  await database.close();
  await rm(dir, { recursive: true, force: true });
});

async function versions(): Promise<{ version_no: number; statement_version: string }[]> {
  const result = await runAsOwner<{ version_no: number; statement_version: string }>(
    database.ownerUrl,
    'select version_no, statement_version from tenant_policies where tenant_id = $1 order by version_no',
    [voiceking.tenantId],
  );
  return result.rows;
}

const setPolicy = (file: string) =>
  runCli(['tenant', 'policy', 'set', '--tenant', voiceking.slug, file], { DATABASE_URL: database.ownerUrl });

describe('one statement version names one statement (attack S20-8, decision 0923)', () => {
  it('VK-29: kluis tenant policy set refuses a changed statement under the statement version in force, and installing the identical file again changes nothing and says so', async () => {
    const seed = await readFile(path.join(ROOT, 'policies/voiceking.yaml'), 'utf8');
    const before = await versions();
    expect(before.map((row) => row.statement_version)).toEqual(['2026.2']);

    const same = path.join(dir, 'same.yaml');
    await writeFile(same, seed);
    const again = await setPolicy(same);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stdout).toContain('already in force; nothing changed');
    expect(await versions()).toEqual(before);

    // The eligibility purpose kept for a different time, the statement version left as it was.
    const eligibility = /\n  eligibility:[\s\S]*?\n    retention: inactivity_3y/.exec(seed)?.[0] ?? '';
    expect(eligibility).not.toBe('');
    const edited = seed.replace(
      eligibility,
      eligibility.replace('retention: inactivity_3y', 'retention: contract_then_3y'),
    );
    expect(edited).not.toBe(seed);
    const sameVersion = path.join(dir, 'same-version.yaml');
    await writeFile(sameVersion, edited);
    const refused = await setPolicy(sameVersion);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'statement.version 2026.2 is in force (policy version 1) with a different statement',
    );
    expect(await versions()).toEqual(before);

    // The same change under a new statement version is installed.
    const newVersion = path.join(dir, 'new-version.yaml');
    await writeFile(newVersion, edited.replace("version: '2026.2'", "version: '2026.3'"));
    const installed = await setPolicy(newVersion);
    expect(installed.code, installed.stderr).toBe(0);
    expect(await versions()).toEqual([...before, { version_no: 2, statement_version: '2026.3' }]);
  });
});

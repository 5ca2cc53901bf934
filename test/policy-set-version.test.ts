import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Kernel } from '../src/kernel/kernel.js';
import { recordConsent } from '../src/modules/consent/index.js';
import { createPerson } from '../src/modules/parties/index.js';
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

const setPolicy = (file: string, ...flags: string[]) =>
  runCli(['tenant', 'policy', 'set', '--tenant', voiceking.slug, file, ...flags], {
    DATABASE_URL: database.ownerUrl,
  });

const SALES = { kind: 'staff', staffId: 1, role: 'sales' } as const;

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

describe('a new version that drops a purpose still in use (attack S20-6, decision 0982)', () => {
  it('VK-29, VK-24: kluis tenant policy set refuses a version that drops a purpose with consents on file, naming it and the count, and installs it with --force, saying what it dropped; the consent records stay', async () => {
    const person = await createPerson(
      kernel,
      { tenantId: voiceking.tenantId, actor: SALES, purpose: 'order_processing' },
      {
        subjectType: 'customer',
        familyName: 'Profiel',
        givenName: 'Ilse',
        email: 'ilse.profiel@mail.example',
      },
    );
    await recordConsent(
      kernel,
      { tenantId: voiceking.tenantId, actor: SALES, purpose: 'interest_profiles' },
      { subjectId: person.subjectId, purpose: 'interest_profiles', event: 'given', channel: 'staff_phone' },
    );
    const before = await versions();
    const seed = await readFile(path.join(ROOT, 'policies/voiceking.yaml'), 'utf8');
    const top = before.at(-1)?.statement_version ?? '';
    // The purpose renamed: the version in force's `interest_profiles` is dropped.
    const renamed = seed
      .replaceAll('interest_profiles', 'interest_profiling')
      .replace(/version: '[0-9.]+'/, "version: '2027.1'");
    expect(renamed).not.toContain('interest_profiles');
    const file = path.join(dir, 'renamed.yaml');
    await writeFile(file, renamed);

    // An invalid file is still refused issue by issue, before anything is asked of the modules.
    const invalid = path.join(dir, 'invalid.yaml');
    await writeFile(invalid, renamed.replace('legalBasis: consent', 'legalBasis: whim'));
    const wrong = await setPolicy(invalid);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('legalBasis');
    expect(wrong.stderr).toContain('invalid.yaml');

    const refused = await setPolicy(file);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain(
      'the new version drops purposes still in use: interest_profiles (1 consent record(s) on file)',
    );
    expect(refused.stderr).toContain('(conflict)');
    expect(await versions()).toEqual(before);
    expect(top).not.toBe('2027.1');

    const forced = await setPolicy(file, '--force');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stdout).toContain('warning: dropped interest_profiles (1 consent record(s) on file)');
    expect((await versions()).at(-1)?.statement_version).toBe('2027.1');
    const kept = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from consent_records where tenant_id = $1 and purpose = 'interest_profiles'",
      [voiceking.tenantId],
    );
    expect(kept.rows[0]?.n).toBe(1);
  });
});

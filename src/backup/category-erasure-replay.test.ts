import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../test/cli.js';
import { runAsOwner, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant } from '../../test/kernel.js';
import { eraseCategories, replayErasureJournal } from '../kernel/erasure/index.js';
import { type Kernel } from '../kernel/kernel.js';
import { DATA_MAP } from '../modules/data-map.js';
import { createPerson, getPerson, rectifyPerson, type UseCaseContext } from '../modules/parties/index.js';
import type { Tenant } from '../modules/tenants/index.js';
import { openBackupWorkspace, type BackupWorkspace } from './backup.test-helpers.js';

let space: BackupWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let other: Tenant;
let dir: string;

const sales = (t: Tenant = tenant): UseCaseContext => ({
  tenantId: t.tenantId,
  actor: { kind: 'staff', staffId: 1, role: 'sales' },
  purpose: 'customer_administration',
});
const officer = (t: Tenant = tenant) => ({
  tenantId: t.tenantId,
  actor: { kind: 'staff' as const, staffId: 9, role: 'privacy_officer' },
  purpose: 'rights_requests',
});
/** What a retention rule that ended for these two categories (not for the person) erases. */
const DUE = ['user.contact.email', 'user.contact.address'];

async function backup(name: string): Promise<string> {
  const out = path.join(dir, name);
  const result = await runCli(['backup', '--out', out], space.env(database.ownerUrl));
  expect(result.code, result.stderr).toBe(0);
  const file = (await readdir(out)).find((entry) => entry.startsWith('kluis-data-'));
  return path.join(out, file ?? '');
}

async function journalLines(t: Tenant, subjectId: number): Promise<string[]> {
  const result = await runAsOwner<{ category: string }>(
    database.keystoreOwnerUrl,
    'select category from category_erasure_journal where tenant_id = $1 and subject_id = $2 order by category, erased_at',
    [t.tenantId, subjectId],
  );
  return result.rows.map((row) => row.category);
}

async function personRow(ownerUrl: string, subjectId: number) {
  const result = await runAsOwner<{
    family_name: string | null;
    email_enc: Buffer | null;
    email_bidx: Buffer | null;
    phone_enc: Buffer | null;
    address_enc: Buffer | null;
  }>(
    ownerUrl,
    'select family_name, email_enc, email_bidx, phone_enc, address_enc from people where subject_id = $1',
    [subjectId],
  );
  return result.rows[0];
}

let lotte: number;
let piet: number;
let foreign: number;
let before: string;

beforeAll(async () => {
  space = await openBackupWorkspace('kluis-category-replay-');
  ({ database, kernel, dir } = space);
  tenant = await createPolicyTenant(kernel, 'voxtra');
  other = await createPolicyTenant(kernel, 'voxtra');
  const person = (t: Tenant, familyName: string) =>
    createPerson(kernel, sales(t), {
      subjectType: 'customer',
      familyName,
      givenName: 'Test',
      email: `${familyName.toLowerCase()}@example.be`,
      phone: '+32 470 12 34 56',
      address: { street: 'Markt 1', postalCode: '9900', city: 'Eeklo' },
    });
  lotte = (await person(tenant, 'Vermeulen')).subjectId;
  piet = (await person(tenant, 'Pieters')).subjectId;
  foreign = (await person(other, 'Anderen')).subjectId;
  before = await backup('before');
}, 120_000);
afterAll(async () => {
  await space.close();
});

describe('category erasures in the erasure journal (issue 16, decision 0111)', () => {
  it('back up, erase two categories of a person, restore the older backup: the replay erases those categories again and nothing else; a second replay does nothing', async () => {
    const outcome = await eraseCategories(kernel, DATA_MAP, {
      ...officer(),
      subjectId: lotte,
      categories: DUE,
    });
    expect(outcome.erased).toContainEqual(expect.objectContaining({ table: 'people', rows: 1 }));
    expect(await journalLines(tenant, lotte)).toEqual([...DUE].sort());
    // Another tenant's journal is its own: nothing of it names this subject number.
    expect(await journalLines(other, lotte)).toEqual([]);

    const target = await space.emptyDatabase('older');
    const restored = await runCli(['restore', '--data', before], space.env(target));
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).toContain('categories erased after the backup erased again for 1');

    const row = await personRow(target, lotte);
    expect(row).toMatchObject({
      family_name: 'Vermeulen',
      email_enc: null,
      email_bidx: null,
      address_enc: null,
    });
    expect(row?.phone_enc).not.toBeNull();
    const untouched = await personRow(target, piet);
    expect(untouched?.email_enc).not.toBeNull();
    expect(untouched?.address_enc).not.toBeNull();

    const served = space.kernelOn(target);
    try {
      const read = await getPerson(served.kernel, sales(), lotte);
      expect(read.email).toBeNull();
      expect(read.phone).toBe('+32470123456');
      // Twice: the data is now up to the journal, so a start replays nothing.
      const again = await replayErasureJournal(served.kernel, DATA_MAP, { ownerUrl: target });
      expect(again).toMatchObject({ replayed: 0, categoriesReplayed: 0 });
    } finally {
      await served.close();
    }
    // The other tenant's person is as in the backup.
    expect((await personRow(target, foreign))?.email_enc).not.toBeNull();
  });

  it('data given again after the category erasure survives a restore of a backup made after it', async () => {
    await rectifyPerson(kernel, sales(), lotte, { email: 'lotte.nieuw@example.be' });
    const after = await backup('after');
    const target = await space.emptyDatabase('newer');
    const restored = await runCli(['restore', '--data', after], space.env(target));
    expect(restored.code, restored.stderr).toBe(0);
    expect(restored.stdout).not.toContain('categories erased');
    const served = space.kernelOn(target);
    try {
      expect((await getPerson(served.kernel, sales(), lotte)).email).toBe('lotte.nieuw@example.be');
    } finally {
      await served.close();
    }
  });

  it('an erasure whose journal line was lost (the process died right after commit) is journalled by the next start, and a restore then erases it again', async () => {
    await eraseCategories(kernel, DATA_MAP, {
      ...officer(),
      subjectId: piet,
      categories: ['user.contact.phone_number'],
    });
    // As if killed between the commit and the journal write.
    await runAsOwner(
      database.keystoreOwnerUrl,
      'delete from category_erasure_journal where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, piet],
    );
    const start = await replayErasureJournal(kernel, DATA_MAP, { ownerUrl: database.ownerUrl });
    expect(start.categoriesJournaled).toBeGreaterThanOrEqual(1);
    expect(await journalLines(tenant, piet)).toEqual(['user.contact.phone_number']);

    const target = await space.emptyDatabase('lost');
    const restored = await runCli(['restore', '--data', before], space.env(target));
    expect(restored.code, restored.stderr).toBe(0);
    expect((await personRow(target, piet))?.phone_enc).toBeNull();
    expect((await personRow(target, piet))?.email_enc).not.toBeNull();
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { inject } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { dumpTables, dumpWholeDatabase, restoreTables } from '../../../test/dump.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import {
  createPerson,
  findPeopleByContact,
  getPerson,
  type UseCaseContext,
} from '../../modules/parties/index.js';
import { DATA_MAP } from '../../modules/data-map.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { systemClock } from '../../platform/clock.js';
import { createAppDb } from '../../platform/db.js';
import { withDatabase } from '../../platform/database-url.js';
import { eraseSubject } from '../erasure/index.js';
import { createKernel, keyringOf, type Kernel } from '../kernel.js';
import { LocalKeyManagementService } from './kms.js';

let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
const masterKey = randomBytes(32);

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock: systemClock,
  });
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => database.close());

const sales: UseCaseContext = {
  tenantId: 0,
  actor: { kind: 'staff', staffId: 1, role: 'sales' },
  purpose: 'order_processing',
};
const ctx = (): UseCaseContext => ({ ...sales, tenantId: tenant.tenantId });
const officer = () => ({
  tenantId: tenant.tenantId,
  actor: { kind: 'staff' as const, staffId: 9, role: 'privacy_officer' },
  purpose: 'rights_requests',
});

async function customer(email: string, phone: string) {
  return createPerson(kernel, ctx(), {
    subjectType: 'customer',
    familyName: 'Janssens',
    givenName: 'Lore',
    email,
    phone,
  });
}

describe('keys: encryption at rest, blind index, crypto-shredding (VK-7, VX-4, VX-7)', () => {
  it('encrypted fields hold no plaintext in the database and decrypt through the gate', async () => {
    const person = await customer('lore.janssens@example.be', '+32 470 11 22 33');
    const raw = await runAsOwner<{ email_enc: Buffer; phone_enc: Buffer }>(
      database.ownerUrl,
      'select email_enc, phone_enc from people where tenant_id = $1 and subject_id = $2',
      [tenant.tenantId, person.subjectId],
    );
    const row = raw.rows[0];
    expect(row?.email_enc.includes(Buffer.from('lore.janssens'))).toBe(false);
    expect(row?.phone_enc.includes(Buffer.from('470112233'))).toBe(false);
    expect(row?.email_enc[0]).toBe(0x01); // format/version byte for rotation
    expect((await getPerson(kernel, ctx(), person.subjectId)).email).toBe('lore.janssens@example.be');
  });

  it('a ciphertext moved to another row cannot be decrypted (row bound as associated data)', async () => {
    const a = await customer('a.row@example.be', '0471 00 00 01');
    const b = await customer('b.row@example.be', '0471 00 00 02');
    await runAsOwner(
      database.ownerUrl,
      'update people set email_enc = (select email_enc from people where tenant_id = $1 and subject_id = $2) where tenant_id = $1 and subject_id = $3',
      [tenant.tenantId, a.subjectId, b.subjectId],
    );
    await expect(getPerson(kernel, ctx(), b.subjectId)).rejects.toMatchObject({
      code: 'field_unreadable',
      message: 'the field of people.email_enc cannot be opened with this key store',
    });
  });

  it('exact-match search by e-mail and phone goes through the blind index', async () => {
    const person = await customer('Search.Me@Example.be', '0472 33 44 55');
    const byEmail = await findPeopleByContact(kernel, ctx(), { email: 'search.me@example.be' });
    expect(byEmail.map((found) => found.subjectId)).toEqual([person.subjectId]);
    const byPhone = await findPeopleByContact(kernel, ctx(), { phone: '+32472334455' });
    expect(byPhone.map((found) => found.subjectId)).toEqual([person.subjectId]);
    const index = await runAsOwner<{ email_bidx: Buffer }>(
      database.ownerUrl,
      'select email_bidx from people where subject_id = $1',
      [person.subjectId],
    );
    expect(index.rows[0]?.email_bidx.length).toBe(16);
  });

  it('VX-7: a dump taken before erasure and restored after it cannot reveal the erased subject, but still reveals another', async () => {
    const erased = await customer('gone.forever@example.be', '0473 99 88 77');
    const kept = await customer('still.here@example.be', '0473 11 22 33');
    const tables = ['tenants', 'tenant_policies', 'data_subjects', 'people'];
    const backup = await dumpTables(database.ownerUrl, tables);

    const outcome = await eraseSubject(kernel, DATA_MAP, { ...officer(), subjectId: erased.subjectId });
    expect(outcome.keyDestroyed).toBe(true);
    expect(outcome.erased).toEqual([expect.objectContaining({ table: 'people', rows: 1 })]);
    const live = await dumpWholeDatabase(database.ownerUrl);
    expect(live).not.toContain('gone.forever');

    // Restore the old backup into a fresh database, next to the current key store.
    const restoredName = `${database.name}_restored`;
    const serverUrl = inject('serverUrl');
    await runAsOwner(serverUrl, `create database ${restoredName} template kluis_template`);
    const restoredUrl = withDatabase(serverUrl, restoredName);
    await restoreTables(restoredUrl, backup, tables);
    const { db: restoredDb } = createAppDb({
      connectionString: restoredUrl,
      assumeAppRole: true,
      logger: testLogger,
    });
    try {
      const restoredKernel = createKernel({
        db: restoredDb,
        keystore: database.keystore,
        kms: new LocalKeyManagementService(masterKey),
        clock: systemClock,
      });
      const ghost = await getPerson(restoredKernel, ctx(), erased.subjectId);
      expect(ghost.email).toBeNull();
      expect(ghost.phone).toBeNull();
      const other = await getPerson(restoredKernel, ctx(), kept.subjectId);
      expect(other.email).toBe('still.here@example.be');
    } finally {
      await restoredDb.destroy();
      await runAsOwner(serverUrl, `drop database ${restoredName} with (force)`);
    }
  });

  it('destroying a key is audited, and the subject is refused afterwards', async () => {
    const person = await customer('audit.me@example.be', '0474 10 20 30');
    await eraseSubject(kernel, DATA_MAP, { ...officer(), subjectId: person.subjectId });
    const entries = await runAsOwner<{ action: string; reason: string | null }>(
      database.ownerUrl,
      "select action, reason from audit_log where tenant_id = $1 and action in ('erase', 'key.destroy') order by seq desc limit 2",
      [tenant.tenantId],
    );
    expect(entries.rows).toEqual([
      { action: 'key.destroy', reason: 'crypto_shredded' },
      { action: 'erase', reason: null },
    ]);
    await expect(getPerson(kernel, ctx(), person.subjectId)).rejects.toMatchObject({
      code: 'subject_erased',
    });
  });

  it('the key store is a separate database: the data database holds no key material', async () => {
    const keyTables = await runAsOwner(
      database.ownerUrl,
      "select 1 from pg_tables where tablename in ('data_keys', 'tenant_keks')",
    );
    expect(keyTables.rowCount).toBe(0);
    const keys = await runAsOwner<{ n: number }>(
      database.keystoreOwnerUrl,
      'select count(*)::int as n from data_keys where tenant_id = $1',
      [tenant.tenantId],
    );
    expect(keys.rows[0]?.n).toBeGreaterThan(0);
  });

  it('rotating the tenant key re-wraps every data key, resumes after an interruption, and data stays readable', async () => {
    const person = await customer('rotate.me@example.be', '0475 55 66 77');
    const versions = async () =>
      (
        await runAsOwner<{ kek_version: number; n: number }>(
          database.keystoreOwnerUrl,
          'select kek_version, count(*)::int as n from data_keys where tenant_id = $1 and wrapped is not null group by 1 order by 1',
          [tenant.tenantId],
        )
      ).rows;
    const total = (await versions()).reduce((sum, row) => sum + row.n, 0);
    // Interrupted after one batch of one key: some keys on v2, the rest still on v1.
    await keyringOf(kernel).rotateTenantKek(tenant.tenantId, { batchSize: 1, stopAfterBatches: 1 });
    expect(await versions()).toEqual([
      { kek_version: 1, n: total - 1 },
      { kek_version: 2, n: 1 },
    ]);
    const resumed = await keyringOf(kernel).rotateTenantKek(tenant.tenantId, { batchSize: 2 });
    expect(resumed.version).toBe(2);
    expect(await versions()).toEqual([{ kek_version: 2, n: total }]);
    // A fresh process (no key cache) still decrypts with the same master key.
    const fresh = createKernel({
      db: database.db,
      keystore: database.keystore,
      kms: new LocalKeyManagementService(masterKey),
      clock: systemClock,
    });
    expect((await getPerson(fresh, ctx(), person.subjectId)).email).toBe('rotate.me@example.be');
  });

  it('a wrong master key cannot unwrap the data keys', async () => {
    const person = await customer('wrong.key@example.be', '0476 12 12 12');
    const intruder = createKernel({
      db: database.db,
      keystore: database.keystore,
      kms: new LocalKeyManagementService(randomBytes(32)),
      clock: systemClock,
    });
    await expect(getPerson(intruder, ctx(), person.subjectId)).rejects.toThrow(/could not be unwrapped/);
  });

  it("pseudonyms of a list are each subject's pseudonym, in the list's order (one secret lookup for an audit batch)", async () => {
    const keyring = keyringOf(kernel);
    const ids = [42, 7, 42, 1_000_001, 3];
    const one = await Promise.all(ids.map((id) => keyring.pseudonym(tenant.tenantId, id)));
    expect(await keyring.pseudonyms(tenant.tenantId, ids)).toEqual(one);
    expect(new Set(one).size).toBe(4);
    expect(await keyring.pseudonyms(tenant.tenantId, [])).toEqual([]);
  });

  it('the audit secrets answer at once only from the cache, fresh, and then as the loading calls do (decision 0820)', async () => {
    // A keyring of its own: nothing of the other tests in its memory.
    const keyring = keyringOf(
      createKernel({
        db: database.db,
        keystore: database.keystore,
        kms: new LocalKeyManagementService(masterKey),
        clock: systemClock,
      }),
    );
    const data = Buffer.from('checkpoint bytes');
    // Nothing in memory yet: no answer, and nothing is created or loaded for it.
    expect(keyring.pseudonymsIfCached(tenant.tenantId, [42])).toBeUndefined();
    expect(keyring.checkpointMacIfCached(tenant.tenantId, data)).toBeUndefined();
    const pseudonyms = await keyring.pseudonyms(tenant.tenantId, [42, 7]);
    const mac = await keyring.checkpointMac(tenant.tenantId, data);
    expect(keyring.pseudonymsIfCached(tenant.tenantId, [42, 7])).toEqual(pseudonyms);
    expect(keyring.checkpointMacIfCached(tenant.tenantId, data)).toEqual(mac);
    // Another tenant's secrets are not this one's.
    expect(keyring.checkpointMacIfCached(tenant.tenantId + 1_000_000, data)).toBeUndefined();
    // The cache's expiry (a minute) holds for them as for every key: stale, they answer nothing.
    const later = Date.now() + 61_000;
    const clock = vi.spyOn(Date, 'now').mockReturnValue(later);
    try {
      expect(keyring.pseudonymsIfCached(tenant.tenantId, [42])).toBeUndefined();
      expect(keyring.checkpointMacIfCached(tenant.tenantId, data)).toBeUndefined();
    } finally {
      clock.mockRestore();
    }
  });
});

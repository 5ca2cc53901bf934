import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../test/cli.js';
import { crashEnv, fulfilErasureInChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { requestsDeps } from '../../../test/service-deps.js';
import { DATA_MAP } from '../../modules/data-map.js';
import { createPerson } from '../../modules/parties/index.js';
import { registerStaffRequest, type RequestsDeps } from '../../modules/requests/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { systemClock } from '../../platform/clock.js';
import { createKernel, type Kernel } from '../kernel.js';
import { LocalKeyManagementService } from '../keyring/kms.js';
import { AccessDenied } from '../gate/gate.js';
import { eraseSubject } from './index.js';

let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
let deps: RequestsDeps;
const masterKey = randomBytes(32);
const officer = { kind: 'staff', staffId: 1, role: 'privacy_officer' } as const;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createKernel({
    db: database.db,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(masterKey),
    clock: systemClock,
  });
  tenant = await createPolicyTenant(kernel, 'voiceking');
  deps = requestsDeps(kernel);
});
afterAll(async () => database.close());

/** The environment of a child process on this test's databases, with the same master key. */
const childEnv = (extra: Record<string, string> = {}): Record<string, string> =>
  crashEnv(database, masterKey, extra);

let serial = 0;
async function customerWithErasureRequest(): Promise<{ subjectId: number; requestId: string }> {
  serial += 1;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: 1, role: 'sales' },
      purpose: 'order_processing',
    },
    {
      subjectType: 'customer',
      familyName: `Claes${serial}`,
      givenName: 'Lotte',
      email: `lotte.claes${serial}@mail.example`,
    },
  );
  const request = await registerStaffRequest(
    deps,
    { tenantId: tenant.tenantId, actor: officer },
    { kind: 'erasure', channel: 'phone', subjectId: person.subjectId, verificationMethod: 'id_card_seen' },
  );
  return { subjectId: person.subjectId, requestId: request.requestId };
}

/** Runs the erasure in a child process that dies (SIGKILL) at the given point. */
const fulfilInChildThatDies = (requestId: string, point: string): Promise<NodeJS.Signals | null> =>
  fulfilErasureInChild(tenant.tenantId, requestId, childEnv({ KLUIS_TEST_HOOK: `${point}:kill` }));

async function state(subjectId: number, requestId: string) {
  const subject = await runAsOwner<{ erased: boolean }>(
    database.ownerUrl,
    'select erased_at is not null as erased from data_subjects where tenant_id = $1 and subject_id = $2',
    [tenant.tenantId, subjectId],
  );
  const request = await runAsOwner<{ state: string }>(
    database.ownerUrl,
    'select state from rights_requests where tenant_id = $1 and request_id = $2',
    [tenant.tenantId, requestId],
  );
  const pending = await runAsOwner<{ done: boolean }>(
    database.ownerUrl,
    "select destroyed_at is not null as done from subject_key_destructions where tenant_id = $1 and subject_id = $2 and key_scope = 'subject'",
    [tenant.tenantId, subjectId],
  );
  const key = await runAsOwner<{ live: boolean }>(
    database.keystoreOwnerUrl,
    `select wrapped is not null as live from data_keys where tenant_id = $1 and owner_kind = 'subject' and owner_ref = $2`,
    [tenant.tenantId, String(subjectId)],
  );
  const shredded = await runAsOwner<{ reason: string }>(
    database.ownerUrl,
    `select reason from audit_log where tenant_id = $1 and action = 'key.destroy' and subject_pseudonyms @> array[$2]::text[]`,
    [tenant.tenantId, await kernel.keys.pseudonym(tenant.tenantId, subjectId)],
  );
  return {
    erased: subject.rows[0]?.erased,
    request: request.rows[0]?.state,
    destructionDone: pending.rows[0]?.done,
    keyLive: key.rows[0]?.live,
    keyDestroyAudit: shredded.rows.map((row) => row.reason),
  };
}

describe('erasure that finishes (issue 11)', () => {
  it('VK-23: an erasure killed (SIGKILL) right after its commit is finished by the next start: key destroyed, request fulfilled', async () => {
    const { subjectId, requestId } = await customerWithErasureRequest();
    expect((await state(subjectId, requestId)).keyLive).toBe(true);

    expect(await fulfilInChildThatDies(requestId, 'erasure.committed')).toBe('SIGKILL');
    // Died between the two databases: the erasure, the request's fulfilment and the pending key
    // destruction committed together; the key itself is still in the key store.
    expect(await state(subjectId, requestId)).toEqual({
      erased: true,
      request: 'fulfilled',
      destructionDone: false,
      keyLive: true,
      keyDestroyAudit: [],
    });

    const server = await startServer(childEnv({ KLUIS_PORT: '0', KLUIS_DEMO: 'false' }));
    try {
      let after = await state(subjectId, requestId);
      // The finisher destroys the key, then marks it done: wait for both.
      for (
        let attempt = 0;
        attempt < 100 && (after.keyLive || !after.destructionDone || after.keyDestroyAudit.length === 0);
        attempt += 1
      ) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        after = await state(subjectId, requestId);
      }
      expect(after).toEqual({
        erased: true,
        request: 'fulfilled',
        destructionDone: true,
        keyLive: false,
        keyDestroyAudit: ['crypto_shredded'],
      });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
  });

  it('VK-23: erasing a subject again after a crash between key destruction and its record succeeds and records the shredding once', async () => {
    const { subjectId, requestId } = await customerWithErasureRequest();
    expect(await fulfilInChildThatDies(requestId, 'erasure.key-destroyed')).toBe('SIGKILL');
    expect(await state(subjectId, requestId)).toMatchObject({
      erased: true,
      request: 'fulfilled',
      destructionDone: false,
      keyLive: false,
    });

    // A retry (here: retention or a second request erasing the same person) is not refused.
    const again = await eraseSubject(kernel, DATA_MAP, {
      tenantId: tenant.tenantId,
      actor: officer,
      purpose: 'rights_requests',
      subjectId,
    });
    expect(again).toMatchObject({ alreadyErased: true, keyDestroyed: true, erased: [] });
    // Finishing is no back door: an actor who may not erase is still refused.
    await expect(
      eraseSubject(kernel, DATA_MAP, {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff', staffId: 2, role: 'sales' },
        purpose: 'order_processing',
        subjectId,
      }),
    ).rejects.toBeInstanceOf(AccessDenied);
    expect(await state(subjectId, requestId)).toEqual({
      erased: true,
      request: 'fulfilled',
      destructionDone: true,
      keyLive: false,
      keyDestroyAudit: ['crypto_shredded'],
    });
  });
});

import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../test/cli.js';
import { crashEnv, fulfilErasureInChild } from '../../../test/crash.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { requestsDeps } from '../../../test/service-deps.js';
import { finishPendingKeyDestructions } from '../../kernel/erasure/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import {
  billingContext,
  createCustomer,
  prepareTenant,
  startContract,
} from '../billing/billing.test-helpers.js';
import { runInvoices } from '../billing/index.js';
import { registerStaffRequest } from '../requests/index.js';
import type { Tenant } from '../tenants/index.js';
import { createItem } from './index.js';

const masterKey = randomBytes(32);
let database: TestDatabase;
let kernel: Kernel;
let voxtra: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
});
afterAll(async () => database.close());

const childEnv = (extra: Record<string, string>): Record<string, string> =>
  crashEnv(database, masterKey, extra);

/** The erasure request fulfilled in a child process that dies (SIGKILL) at the hook. */
const fulfilInChildThatDies = (requestId: string, point: string): Promise<NodeJS.Signals | null> =>
  fulfilErasureInChild(voxtra.tenantId, requestId, childEnv({ KLUIS_TEST_HOOK: `${point}:kill` }));

async function dossierKeyState(subjectId: number) {
  const key = await runAsOwner<{ live: boolean }>(
    database.keystoreOwnerUrl,
    "select wrapped is not null as live from data_keys where tenant_id = $1 and owner_kind = 'dossier' and owner_ref = $2",
    [voxtra.tenantId, String(subjectId)],
  );
  const pending = await runAsOwner<{ scope: string; done: boolean }>(
    database.ownerUrl,
    'select key_scope as scope, destroyed_at is not null as done from subject_key_destructions where tenant_id = $1 and subject_id = $2 order by key_scope',
    [voxtra.tenantId, subjectId],
  );
  const audit = await runAsOwner<{ reason: string }>(
    database.ownerUrl,
    `select reason from audit_log where tenant_id = $1 and action = 'key.destroy' and subject_pseudonyms @> array[$2]::text[]`,
    [voxtra.tenantId, await kernel.keys.pseudonym(voxtra.tenantId, subjectId)],
  );
  return {
    dossierKeyLive: key.rows[0]?.live,
    records: pending.rows,
    keyDestroyAudit: audit.rows.map((row) => row.reason),
  };
}

describe('the dossier key after a full erasure (issue 17)', () => {
  it('a full erasure killed between its commit and the dossier key destruction leaves a pending record; the erasure-finisher destroys it, recorded once', async () => {
    const catalogue = await prepareTenant(kernel, voxtra);
    const subjectId = await createCustomer(kernel, voxtra, { familyName: 'Vandamme' });
    // Ended: a running contract would hold the erasure (decision 0940).
    await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      endDate: '2026-10-31',
      lines: [{ productId: catalogue.subscription }],
    });
    await runInvoices(kernel, billingContext(voxtra), { period: '2026-10', callsPurpose: 'call_billing' });
    await createItem(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'technician' },
        purpose: 'technical_dossier',
      },
      'credential',
      subjectId,
      { system: 'NAS', password: 'N4s-Adm1n!pass' },
    );
    const deps = requestsDeps(kernel);
    const request = await registerStaffRequest(
      deps,
      { tenantId: voxtra.tenantId, actor: { kind: 'staff', staffId: 1, role: 'privacy_officer' } },
      { kind: 'erasure', channel: 'phone', subjectId, verificationMethod: 'id_card_seen' },
    );
    expect((await dossierKeyState(subjectId)).dossierKeyLive).toBe(true);

    expect(await fulfilInChildThatDies(request.requestId, 'erasure.committed')).toBe('SIGKILL');
    // The dossier's key is recorded as pending in the same transaction as the erasure (next to the
    // subject's own key), and still alive.
    expect(await dossierKeyState(subjectId)).toEqual({
      dossierKeyLive: true,
      records: [
        { scope: 'dossier', done: false },
        { scope: 'subject', done: false },
      ],
      keyDestroyAudit: [],
    });

    // The next start runs the erasure-finisher job.
    const server = await startServer(childEnv({ KLUIS_PORT: '0', KLUIS_DEMO: 'false' }));
    try {
      let after = await dossierKeyState(subjectId);
      for (let attempt = 0; attempt < 100 && after.records.some((row) => !row.done); attempt += 1) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        after = await dossierKeyState(subjectId);
      }
      expect(after).toEqual({
        dossierKeyLive: false,
        records: [
          { scope: 'dossier', done: true },
          { scope: 'subject', done: true },
        ],
        keyDestroyAudit: ['dossier_key_shredded', 'crypto_shredded'],
      });
    } finally {
      server.child.kill('SIGTERM');
      await server.exited;
    }
    // Twice: nothing left to finish, nothing recorded again.
    expect(await finishPendingKeyDestructions(kernel, [voxtra.tenantId])).toBe(0);
    expect((await dossierKeyState(subjectId)).keyDestroyAudit).toEqual([
      'dossier_key_shredded',
      'crypto_shredded',
    ]);
  });
});

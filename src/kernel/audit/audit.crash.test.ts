import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../../../test/cli.js';
import { crashEnv, runChild } from '../../../test/crash.js';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createPerson } from '../../modules/parties/index.js';
import { systemClock } from '../../platform/clock.js';
import { kernelCore, type Kernel } from '../kernel.js';
import { verifyAuditChain } from './index.js';
import { holdChainHead, countAuditRows } from './audit.test-helpers.js';

// Decision 0340: an audited transaction that finds the chain head held writes its entry to
// audit_pending, commits, and the chainer links it. A process killed between those steps, or
// inside the chainer's transaction, leaves every entry in exactly one of the two tables; the next
// chain run (here: verification) links what is left, and the chain verifies.

let database: TestDatabase;
let kernel: Kernel;
const masterKey = randomBytes(32);

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
});
afterAll(async () => database.close());

async function until(check: () => Promise<boolean>, timeoutMs = 90_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not reached in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** One audited transaction in a child process on the test's databases, with a hook armed. */
function appendInChild(tenantId: number, requestId: string, hook: string) {
  return runChild(
    ['--import', 'tsx', path.join(ROOT, 'test/children/audit-append.ts'), String(tenantId), requestId],
    crashEnv(database, masterKey, { KLUIS_TEST_HOOK: `${hook}:kill` }),
  );
}

async function tenantWithHead(): Promise<number> {
  const tenant = await createPolicyTenant(kernel, 'voiceking');
  await kernel.transact(tenant.tenantId, ({ audit }) => {
    audit.record({
      actor: { kind: 'system', id: 'test' },
      role: null,
      purpose: null,
      action: 'read',
      subjectIds: [],
      categories: [],
      records: 0,
      decision: 'allowed',
      requestId: 'first',
    });
    return Promise.resolve();
  });
  return tenant.tenantId;
}

describe('audit entries written while the head is held survive a kill', () => {
  it('killed after its pending entry committed, before the chainer ran: the entry is chained later, once, and the chain verifies', async () => {
    const tenantId = await tenantWithHead();
    const release = await holdChainHead(database.ownerUrl, tenantId);
    let exit;
    try {
      exit = await appendInChild(tenantId, 'killed-after-commit', 'audit.pending-committed');
    } finally {
      await release();
    }
    expect(exit.signal).toBe('SIGKILL');
    expect(await countAuditRows(database.ownerUrl, 'audit_pending', tenantId, 'killed-after-commit')).toBe(1);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'killed-after-commit')).toBe(0);

    const verification = await verifyAuditChain(kernelCore(kernel).audit, tenantId);
    expect(verification.ok).toBe(true);
    expect(await countAuditRows(database.ownerUrl, 'audit_pending', tenantId, 'killed-after-commit')).toBe(0);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'killed-after-commit')).toBe(1);
  });

  it('killed inside the chainer before its commit: nothing was moved, the entry is chained later, once, and the chain verifies', async () => {
    const tenantId = await tenantWithHead();
    const release = await holdChainHead(database.ownerUrl, tenantId);
    let released = false;
    const child = appendInChild(tenantId, 'killed-in-chainer', 'audit.chain-before-commit');
    try {
      // The child's entry commits to audit_pending while the head is held; then its chainer waits.
      await until(
        async () =>
          (await countAuditRows(database.ownerUrl, 'audit_pending', tenantId, 'killed-in-chainer')) === 1,
      );
      await release();
      released = true;
      expect((await child).signal).toBe('SIGKILL');
    } finally {
      if (!released) await release();
    }
    expect(await countAuditRows(database.ownerUrl, 'audit_pending', tenantId, 'killed-in-chainer')).toBe(1);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'killed-in-chainer')).toBe(0);

    const verification = await verifyAuditChain(kernelCore(kernel).audit, tenantId);
    expect(verification.ok).toBe(true);
    expect(await countAuditRows(database.ownerUrl, 'audit_pending', tenantId, 'killed-in-chainer')).toBe(0);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'killed-in-chainer')).toBe(1);
  });
});

// Decision 0455: a gated read whose entry went to audit_pending returns without waiting for the
// chain run. The entry is durable at the read's commit; a process that dies after the read
// returned, before its chain run, loses nothing: the next reader of the chain links it.
describe('a gated read that returned before its chain run survives a kill', () => {
  async function personRead(requestId: string) {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const person = await createPerson(
      kernel,
      {
        tenantId: tenant.tenantId,
        actor: { kind: 'staff', staffId: 1, role: 'sales' },
        purpose: 'order_processing',
      },
      { subjectType: 'customer', familyName: 'Peeters', givenName: 'An', email: `${requestId}@example.be` },
    );
    const release = await holdChainHead(database.ownerUrl, tenant.tenantId);
    let exit;
    try {
      // The head is held: the child's read writes its entry pending, returns, and the child dies
      // while its chain run waits for the head.
      exit = await runChild(
        [
          '--import',
          'tsx',
          path.join(ROOT, 'test/children/gated-read.ts'),
          String(tenant.tenantId),
          String(person.subjectId),
          requestId,
        ],
        crashEnv(database, masterKey),
      );
    } finally {
      await release();
    }
    expect(exit.stderr).toContain('read returned: Peeters');
    expect(exit.signal).toBe('SIGKILL');
    expect(await countAuditRows(database.ownerUrl, 'audit_pending', tenant.tenantId, requestId)).toBe(1);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenant.tenantId, requestId)).toBe(0);
    return { tenant, subjectId: person.subjectId };
  }

  it('killed after the read returned, before the chain run: `kluis audit verify` in a new process links the entry once and passes', async () => {
    const { tenant } = await personRead('read-then-killed');
    const verified = await runCli(
      ['audit', 'verify', '--tenant', tenant.slug],
      crashEnv(database, masterKey),
    );
    expect(verified.stderr).toBe('');
    expect(verified.code).toBe(0);
    expect(verified.stdout).toContain(`audit ${tenant.slug}: intact`);
    expect(
      await countAuditRows(database.ownerUrl, 'audit_pending', tenant.tenantId, 'read-then-killed'),
    ).toBe(0);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenant.tenantId, 'read-then-killed')).toBe(1);
  });

  it("killed after the read returned, before the chain run: the person's audit trail, read afterwards, shows the read", async () => {
    const { tenant, subjectId } = await personRead('read-then-killed-trail');
    // As the trail's route reads it: the pending entries chained first, outside the trail's
    // transaction (decision 0583).
    await kernel.auditLog.chainPending(tenant.tenantId);
    const trail = await kernel.transact(tenant.tenantId, async (atx) => {
      const grant = await kernel.gate.authorize(
        atx,
        { kind: 'staff', staffId: 2, role: 'privacy_officer' },
        { purpose: 'rights_requests', action: 'read', categories: [], subjectIds: [subjectId] },
      );
      return kernel.auditLog.trail(atx, grant, { limit: 50 });
    });
    expect(
      trail.items.filter((entry) => entry.action === 'read' && entry.purpose === 'order_processing'),
    ).toEqual([
      expect.objectContaining({ actor: { kind: 'staff', id: '17' }, role: 'billing', decision: 'allowed' }),
    ]);
    expect(
      await countAuditRows(database.ownerUrl, 'audit_pending', tenant.tenantId, 'read-then-killed-trail'),
    ).toBe(0);
    expect(
      await countAuditRows(database.ownerUrl, 'audit_log', tenant.tenantId, 'read-then-killed-trail'),
    ).toBe(1);
    expect((await verifyAuditChain(kernelCore(kernel).audit, tenant.tenantId)).ok).toBe(true);
  });
});

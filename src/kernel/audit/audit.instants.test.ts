import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { chainPendingEntries } from './audit.service.js';
import { verifyAuditChain, withAudit, type AuditDeps } from './index.js';
import {
  chainForgedWithWaitingNonce,
  countPendingEntries,
  createWatchedAuditDeps,
  type LoggedLine,
  createAuditTenant,
  holdChainHead,
  readEvent,
  runAsAppRole,
  tamper,
  untilPending,
} from './audit.test-helpers.js';

// Attack S14-1, decision 0766: a timestamp JavaScript cannot hold ('infinity', a year past 275760)
// in a row the app role wrote stopped every chain run of the tenant, silently, and made
// verification throw instead of naming the row.

let database: TestDatabase;
let deps: AuditDeps;
let keysFail = false;
const logged: LoggedLine[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createWatchedAuditDeps(database, logged, (next) => (tenantId, data) => {
    if (keysFail) return Promise.reject(new Error('the key store did not answer'));
    return next(tenantId, data);
  });
});
afterAll(async () => database.close());

function record(tenantId: number, subjectId: number): Promise<void> {
  return withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([subjectId]))));
}

const FORGED_PENDING = `insert into audit_pending (tenant_id, at, actor_kind, actor_id, action, decision, mac, nonce)
  values ($1, $2::timestamptz, 'system', 'x', 'forged.instant', 'allowed', sha256('m'::bytea), substring(sha256(clock_timestamp()::text::bytea) from 1 for 16))`;

/** Runs `work` as the owner with the check of decision 0766 away: a row stored before it existed. */
async function withoutInstantCheck(
  table: 'audit_log' | 'audit_pending',
  work: () => Promise<unknown>,
): Promise<void> {
  const constraint = `${table}_at_instant`;
  await runAsOwner(database.ownerUrl, `alter table ${table} drop constraint ${constraint}`);
  try {
    await work();
  } finally {
    await runAsOwner(
      database.ownerUrl,
      `alter table ${table} add constraint ${constraint}
         check (at >= '1970-01-01 00:00:00+00' and at < '10000-01-01 00:00:00+00') not valid`,
    );
  }
}

describe('instants JavaScript cannot hold in the audit tables (attack S14-1, decision 0766)', () => {
  it('are refused by the database for the app role: a pending row, a chained row through the link function, a checkpoint', async () => {
    const tenantId = await createAuditTenant(database.db, 'instant-refused');
    await record(tenantId, 1);
    for (const at of ['infinity', '-infinity', '280000-01-01 00:00:00+00']) {
      await expect(
        runAsAppRole(database.ownerUrl, tenantId, [FORGED_PENDING, [tenantId, at]]),
      ).rejects.toMatchObject({ code: '23514' });
    }
    const head = await runAsOwner<{ seq: string; hash: Buffer }>(
      database.ownerUrl,
      'select seq, hash from audit_heads where tenant_id = $1',
      [tenantId],
    );
    const row = {
      tenant_id: tenantId,
      seq: Number(head.rows[0]?.seq) + 1,
      at: 'infinity',
      actor_kind: 'system',
      actor_id: 'x',
      action: 'forged.instant',
      subject_pseudonyms: [],
      categories: [],
      records: 0,
      decision: 'allowed',
      prev_hash: `\\x${head.rows[0]?.hash.toString('hex') ?? ''}`,
      hash: `\\x${'ab'.repeat(32)}`,
      mac: `\\x${'cd'.repeat(32)}`,
    };
    await expect(
      runAsAppRole(database.ownerUrl, tenantId, [
        'select kluis_audit_link($1::jsonb)',
        [JSON.stringify([row])],
      ]),
    ).rejects.toMatchObject({ code: '23514' });
    await expect(
      runAsAppRole(database.ownerUrl, tenantId, [
        `insert into audit_checkpoints (tenant_id, seq, head_hash, signed_at, mac)
           values ($1, 1, sha256('h'::bytea), 'infinity', sha256('m'::bytea))`,
        [tenantId],
      ]),
    ).rejects.toMatchObject({ code: '23514' });
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 1 });
  });

  it('a pending row stored before the check is named as not Kluis’s: the chain run links the genuine entries behind it and verification says where, instead of failing', async () => {
    const tenantId = await createAuditTenant(database.db, 'instant-pending');
    await record(tenantId, 1);
    await withoutInstantCheck('audit_pending', () =>
      runAsAppRole(database.ownerUrl, tenantId, [FORGED_PENDING, [tenantId, 'infinity']]),
    );
    // A genuine entry waits behind a held head, after the forged row.
    const release = await holdChainHead(database.ownerUrl, tenantId);
    const parked = record(tenantId, 2);
    try {
      await untilPending(database.ownerUrl, tenantId, { count: 2 });
    } finally {
      await release();
    }
    await parked;
    expect(await chainPendingEntries(deps, tenantId)).toBe(0);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(1);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: false, problem: 'entry_mac_invalid' });
    const { rows } = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from audit_log where tenant_id = $1',
      [tenantId],
    );
    expect(rows[0]?.n).toBe(2);
  });

  it('a chained twin stored before the check with such an instant is the forgery: the genuine pending entry is named displaced, and verification names the break', async () => {
    const tenantId = await createAuditTenant(database.db, 'instant-twin');
    await record(tenantId, 1);
    const squat = await chainForgedWithWaitingNonce(database.ownerUrl, tenantId, () => record(tenantId, 2));
    // The forged row as the attack chained it, its instant changed as it was before the check.
    await withoutInstantCheck('audit_log', () =>
      tamper(database.ownerUrl, (client) =>
        client.query(`update audit_log set at = 'infinity' where tenant_id = $1 and seq = $2`, [
          tenantId,
          squat.seq,
        ]),
      ),
    );
    expect(await chainPendingEntries(deps, tenantId)).toBe(0);
    const verified = await verifyAuditChain(deps, tenantId);
    expect(verified).toMatchObject({ ok: false, firstBadSeq: squat.seq });
    expect(verified.ok ? [] : (verified.displacedPending ?? []).map((each) => each.pendingId)).toEqual([
      squat.pendingId,
    ]);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(1);
  });

  it('a background chain run that fails for another reason than a lost database is logged once per tenant and message; the entries wait and are chained once it works', async () => {
    const tenantId = await createAuditTenant(database.db, 'instant-run-failed');
    await record(tenantId, 1);
    for (const subjectId of [2, 3]) {
      const release = await holdChainHead(database.ownerUrl, tenantId);
      const parked = record(tenantId, subjectId);
      try {
        // Signed and committed to audit_pending; its chain run waits for the head.
        await untilPending(database.ownerUrl, tenantId, { count: subjectId - 1 });
        keysFail = true;
      } finally {
        await release();
      }
      try {
        // The write's chain run fails; the write itself committed.
        await parked;
      } finally {
        keysFail = false;
      }
    }
    const lines = logged.filter((line) => line.fields.tenantId === tenantId);
    expect(lines.map((line) => line.message)).toEqual([
      `audit: a chain run of tenant ${tenantId} failed (the key store did not answer): its pending entries stay in audit_pending until a run succeeds; kluis audit verify says where the chain stands`,
    ]);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(2);
    expect(await chainPendingEntries(deps, tenantId)).toBe(2);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 3 });
  });
});

import { randomBytes } from 'node:crypto';
import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { encodePendingMac } from './audit.canonical.js';
import { chainPendingEntries } from './audit.service.js';
import { verifyAuditChain, withAudit, type AuditDeps } from './index.js';
import {
  chainForgedWithWaitingNonce,
  countAuditRows,
  createWatchedAuditDeps,
  type LoggedLine,
  createAuditTenant,
  holdChainHead,
  MASTER_KEY,
  readEvent,
  runAsAppRole,
  untilPending,
} from './audit.test-helpers.js';

// Attack finding S11-1, decision 0686: a copy of a waiting pending entry (the app role may read
// and insert audit_pending) was chained a second time, and verification said intact. Each pending
// entry now carries a nonce under its MAC, kept in the chained entry and unique per tenant there.

let database: TestDatabase;
let deps: AuditDeps;
const logged: LoggedLine[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createWatchedAuditDeps(database, logged);
});
afterAll(async () => database.close());

const PENDING_COLUMNS = `tenant_id, at, actor_kind, actor_id, role, purpose, action, subject_pseudonyms,
  categories, records, decision, reason, request_id, mac`;

function record(tenantId: number, requestId: string, subjectId = 3): Promise<void> {
  return withAudit(deps, tenantId, ({ audit }) => {
    audit.record(readEvent([subjectId], { requestId }));
    return Promise.resolve();
  });
}

/** An audited call whose entry goes pending behind a held head; `whileWaiting` runs meanwhile. */
async function recordPending(
  tenantId: number,
  requestId: string,
  whileWaiting: () => Promise<void>,
): Promise<void> {
  const release = await holdChainHead(database.ownerUrl, tenantId);
  const appending = record(tenantId, requestId);
  try {
    await untilPending(database.ownerUrl, tenantId, { requestId });
    await whileWaiting();
  } finally {
    await release();
  }
  await appending;
}

/** `kluis audit verify` of the tenant, as the operator runs it; with the tenant's slug. */
async function verifyWithCli(
  tenantId: number,
): Promise<{ slug: string; cli: Awaited<ReturnType<typeof runCli>> }> {
  const { rows } = await runAsOwner<{ slug: string }>(
    database.ownerUrl,
    'select slug from tenants where tenant_id = $1',
    [tenantId],
  );
  const slug = rows[0]?.slug ?? '';
  // The entries carry the test clock's date, months ago and never anchored outside the database.
  const cli = await runCli(['audit', 'verify', '--tenant', slug, '--anchor-grace-minutes', '10000000'], {
    DATABASE_URL: database.ownerUrl,
    KLUIS_MASTER_KEY: MASTER_KEY.toString('base64'),
  });
  return { slug, cli };
}

async function pendingIds(tenantId: number): Promise<number[]> {
  const { rows } = await runAsOwner<{ id: string }>(
    database.ownerUrl,
    'select pending_id as id from audit_pending where tenant_id = $1 order by pending_id',
    [tenantId],
  );
  return rows.map((row) => Number(row.id));
}

describe('a copied pending entry is chained once (attack S11-1, decision 0686)', () => {
  it('S11-1: a copy of a waiting entry, inserted as the app role, is not chained; verify says intact and lists it; the chainer goes on', async () => {
    const tenantId = await createAuditTenant(database.db, 'replay-waiting');
    await record(tenantId, 'before');
    let copyId = 0;
    await recordPending(tenantId, 'the-read', async () => {
      // The attack's statement as written (no nonce): the table now refuses a row without one.
      await expect(
        runAsAppRole(database.ownerUrl, tenantId, [
          `insert into audit_pending (${PENDING_COLUMNS})
           select ${PENDING_COLUMNS} from audit_pending where tenant_id = $1`,
          [tenantId],
        ]),
      ).rejects.toThrow(/audit_pending_nonce_required/);
      // With the nonce copied too: written, as any row the app role may insert.
      const copy = await runAsAppRole(database.ownerUrl, tenantId, [
        `insert into audit_pending (${PENDING_COLUMNS}, nonce)
         select ${PENDING_COLUMNS}, nonce from audit_pending where tenant_id = $1 returning pending_id`,
        [tenantId],
      ]);
      copyId = Number((copy.rows[0] as { pending_id: string }).pending_id);
    });

    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'the-read')).toBe(1);
    expect(await pendingIds(tenantId)).toEqual([copyId]);
    expect(logged.filter((entry) => entry.fields['pendingId'] === copyId)).toEqual([
      {
        fields: { tenantId, pendingId: copyId },
        message: expect.stringContaining('is a copy of an entry already chained') as string,
      },
    ]);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({
      ok: true,
      entries: 2,
      checkpoints: 0,
      pendingCopies: [copyId],
      pendingCopyCount: 1,
    });

    // The chainer keeps chaining the others, and says the copy once per process.
    await recordPending(tenantId, 'after', () => Promise.resolve());
    await record(tenantId, 'last');
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'after')).toBe(1);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'the-read')).toBe(1);
    expect(await pendingIds(tenantId)).toEqual([copyId]);
    expect(logged.filter((entry) => entry.fields['pendingId'] === copyId)).toHaveLength(1);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({
      ok: true,
      entries: 4,
      checkpoints: 0,
      pendingCopies: [copyId],
      pendingCopyCount: 1,
    });

    // What the operator sees: intact, and the copy on a line of its own.
    const { slug, cli } = await verifyWithCli(tenantId);
    expect(cli.stdout).toContain(`audit ${slug}: intact (4 entries`);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(
      `audit ${slug}: 1 pending entry is a copy of a chained entry, never chained (audit_pending ${String(copyId)})`,
    );
  });

  it('S15-2: 150 copies of a chained entry are one log line with their count and range, and verification lists the lowest 100 and counts them all (decision 0791)', async () => {
    const tenantId = await createAuditTenant(database.db, 'replay-many');
    await record(tenantId, 'before');
    // While the read waits, the app's login copies it 150 times, its signature and nonce too.
    let copies: pg.QueryResult | undefined;
    const linesBefore = logged.length;
    await recordPending(tenantId, 'copied-read', async () => {
      copies = await runAsAppRole(database.ownerUrl, tenantId, [
        `insert into audit_pending (${PENDING_COLUMNS}, nonce)
         select ${PENDING_COLUMNS}, nonce from audit_pending, generate_series(1, 150)
          where tenant_id = $1 and request_id = 'copied-read'
         returning pending_id`,
        [tenantId],
      ]);
    });
    if (!copies) throw new Error('no copies');
    const ids = copies.rows
      .map((row) => Number((row as { pending_id: string }).pending_id))
      .sort((a, b) => a - b);
    expect(ids).toHaveLength(150);
    // Two more chain runs meet the copies; the log says them once.
    await recordPending(tenantId, 'after', () => Promise.resolve());
    await recordPending(tenantId, 'last', () => Promise.resolve());
    const said = logged
      .slice(linesBefore)
      .filter((line) => line.message.includes('copies of entries already chained'));
    expect(said).toEqual([
      {
        fields: { tenantId, pendingCopies: 150, firstPendingId: ids[0], lastPendingId: ids.at(-1) },
        message: `audit: 150 pending entries of tenant ${String(tenantId)} (pending ids ${String(ids[0])}–${String(ids.at(-1))}) are copies of entries already chained (the same nonce): not chained again, left in audit_pending (their chained twins are signed by Kluis; kluis audit verify lists them)`,
      },
    ]);
    expect(logged.slice(linesBefore).filter((line) => line.message.includes('is a copy of'))).toEqual([]);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({
      ok: true,
      entries: 4,
      checkpoints: 0,
      pendingCopies: ids.slice(0, 100),
      pendingCopyCount: 150,
    });
    const { slug, cli } = await verifyWithCli(tenantId);
    expect(cli.code).toBe(0);
    expect(cli.stdout).toContain(
      `audit ${slug}: 150 pending entries are copies of chained entries, never chained (audit_pending ${ids.slice(0, 100).join(', ')} and 50 more)`,
    );
  });

  it('S11-1: a pending entry saved while it waited and inserted again after it was chained is not chained again', async () => {
    const tenantId = await createAuditTenant(database.db, 'replay-saved');
    await record(tenantId, 'before');
    let saved: Record<string, unknown> | undefined;
    await recordPending(tenantId, 'saved-read', async () => {
      const result = await runAsAppRole(database.ownerUrl, tenantId, [
        `select ${PENDING_COLUMNS}, nonce from audit_pending where tenant_id = $1`,
        [tenantId],
      ]);
      saved = result.rows[0] as Record<string, unknown>;
    });
    if (!saved) throw new Error('nothing saved');
    expect(await pendingIds(tenantId)).toEqual([]);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'saved-read')).toBe(1);

    const columns = Object.keys(saved);
    const replay = (values: unknown[]): Promise<number> =>
      runAsAppRole(database.ownerUrl, tenantId, [
        `insert into audit_pending (${columns.join(', ')})
         values (${columns.map((_, index) => `$${String(index + 1)}`).join(', ')}) returning pending_id`,
        values,
      ]).then((result) => Number((result.rows[0] as { pending_id: string }).pending_id));
    const replayId = await replay(Object.values(saved));

    // Readers chain first: the copy is not waiting to be chained, so nothing is chained twice.
    expect(await verifyAuditChain(deps, tenantId)).toEqual({
      ok: true,
      entries: 2,
      checkpoints: 0,
      pendingCopies: [replayId],
      pendingCopyCount: 1,
    });
    await recordPending(tenantId, 'after', () => Promise.resolve());
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'saved-read')).toBe(1);
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'after')).toBe(1);
    expect(await pendingIds(tenantId)).toEqual([replayId]);

    // The chain itself refuses a second entry with that nonce (its unique index).
    const { rows } = await runAsOwner<{ nonce: Buffer }>(
      database.ownerUrl,
      `select nonce from audit_log where tenant_id = $1 and request_id = 'saved-read'`,
      [tenantId],
    );
    expect(rows[0]?.nonce).toEqual(saved['nonce']);
    await expect(
      runAsOwner(
        database.ownerUrl,
        `insert into audit_log (tenant_id, seq, at, actor_kind, actor_id, action, decision, prev_hash, hash, nonce)
         values ($1, 1000, now(), 'system', 'x', 'read', 'allowed', $2, $2, $3)`,
        [tenantId, randomBytes(32), saved['nonce']],
      ),
    ).rejects.toThrow(/audit_log_nonce/);

    // A copy with a nonce of its own is not Kluis's: the nonce is under the MAC.
    const forgedId = await replay(
      columns.map((column) => (column === 'nonce' ? randomBytes(16) : saved?.[column])),
    );
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      problem: 'entry_mac_invalid',
      message: expect.stringContaining(`number ${String(forgedId)} in audit_pending`) as string,
    });
  });

  it("S13-4: a forged row chained as the app role with a waiting entry's nonce is named the forgery, and the waiting entry the genuine record, by the log and by kluis audit verify", async () => {
    const tenantId = await createAuditTenant(database.db, 'replay-squat');
    await record(tenantId, 'before');
    // As the attack: the app role's login holds the head, so the genuine read's entry parks, and
    // chains a forged row with that entry's nonce and request id.
    const squatted = await chainForgedWithWaitingNonce(database.ownerUrl, tenantId, () =>
      record(tenantId, 'the-read'),
    );
    expect(squatted.seq).toBe(2);
    const genuineId = squatted.pendingId;
    expect(await pendingIds(tenantId)).toEqual([genuineId]);
    const { rows: chained } = await runAsOwner<{ seq: number; action: string }>(
      database.ownerUrl,
      `select seq::int, action from audit_log where tenant_id = $1 and request_id = 'the-read'`,
      [tenantId],
    );
    expect(chained).toEqual([{ seq: 2, action: 'forged.squat' }]);
    const words = `chained entry 2 of tenant ${String(tenantId)} carries the nonce of pending entry ${String(genuineId)} but was not written by Kluis (its signature does not match): pending entry ${String(genuineId)} is the genuine record and entry 2 the forgery; it is not a copy, is never chained and stays in audit_pending: keep it`;
    // One line at error level naming both; never "a copy".
    expect(logged.filter((line) => line.fields['pendingId'] === genuineId)).toEqual([
      { fields: { tenantId, pendingId: genuineId, seq: 2, rows: 1 }, message: `audit: ${words}` },
    ]);

    const verification = await verifyAuditChain(deps, tenantId);
    expect(verification).toEqual({
      ok: false,
      entries: 1,
      firstBadSeq: 2,
      problem: 'entry_mac_invalid',
      message: expect.stringContaining('entry 2 was not written by Kluis') as string,
      displacedPending: [{ pendingId: genuineId, seq: 2, rows: 1, message: words }],
    });
    // The chain goes on after the forgery; the genuine entry stays, and is logged once.
    await recordPending(tenantId, 'after', () => Promise.resolve());
    expect(await countAuditRows(database.ownerUrl, 'audit_log', tenantId, 'after')).toBe(1);
    expect(await pendingIds(tenantId)).toEqual([genuineId]);
    expect(logged.filter((line) => line.fields['pendingId'] === genuineId)).toHaveLength(1);

    const { slug, cli } = await verifyWithCli(tenantId);
    expect(cli.stdout).toContain(`audit ${slug}: BROKEN at seq 2 (entry_mac_invalid)`);
    expect(cli.stdout).toContain(`audit ${slug}: ${words}`);
    expect(cli.code).not.toBe(0);
  });

  it('S14-2: copies the app role makes of a displaced entry are named with it as one record: one log line per run and forged entry, one verification item counting the rows', async () => {
    const tenantId = await createAuditTenant(database.db, 'replay-squat-copies');
    await record(tenantId, 'before');
    const squatted = await chainForgedWithWaitingNonce(database.ownerUrl, tenantId, () =>
      record(tenantId, 'the-read'),
    );
    const genuineId = squatted.pendingId;
    const COPIES = 500;
    await runAsAppRole(database.ownerUrl, tenantId, [
      `insert into audit_pending (${PENDING_COLUMNS}, nonce)
       select ${PENDING_COLUMNS}, nonce from audit_pending, generate_series(1, ${String(COPIES)})
        where tenant_id = $1 and pending_id = $2`,
      [tenantId, genuineId],
    ]);
    // The next run reads the copies: a line names many of them, not one line per row.
    await recordPending(tenantId, 'after', () => Promise.resolve());
    await chainPendingEntries(deps, tenantId);
    const lines = logged.filter(
      (line) => line.fields['tenantId'] === tenantId && line.fields['seq'] === squatted.seq,
    );
    // A run reads audit_pending in batches of 500: a line per batch that holds some of them.
    const counts = lines.map((line) => Number(line.fields['rows']));
    expect(counts[0]).toBe(1);
    expect(counts.slice(1).reduce((sum, count) => sum + count, 0)).toBe(COPIES);
    expect(counts.length).toBeLessThanOrEqual(3);

    const verification = await verifyAuditChain(deps, tenantId);
    expect(verification.ok ? [] : verification.displacedPending).toEqual([
      {
        pendingId: genuineId,
        seq: squatted.seq,
        rows: COPIES + 1,
        message: expect.stringContaining(
          `pending entry ${String(genuineId)} (with ${String(COPIES)} more signed pending rows carrying its nonce: copies of it, the same one record) is the genuine record`,
        ) as string,
      },
    ]);
  });

  it('an entry without a nonce, waiting since before migration 0686, is still chained once and verifies', async () => {
    const tenantId = await createAuditTenant(database.db, 'replay-legacy');
    await record(tenantId, 'before');
    const at = new Date('2026-03-01T09:00:00.123Z');
    const pseudonym = await deps.keys.pseudonym(tenantId, 4);
    const mac = await deps.keys.checkpointMac(
      tenantId,
      encodePendingMac({
        tenantId,
        at,
        actorKind: 'staff',
        actorId: '17',
        role: 'billing',
        purpose: 'billing.invoicing',
        action: 'read',
        subjectPseudonyms: [pseudonym],
        categories: ['user.contact.email'],
        records: 1,
        decision: 'allowed',
        reason: null,
        requestId: 'legacy',
        nonce: null,
      }),
    );
    // As the migration found it: written before the nonce was required (the constraint is NOT
    // VALID, so it was never checked), which the test can only make with the constraint aside.
    await runAsOwner(
      database.ownerUrl,
      `begin;
       alter table audit_pending drop constraint audit_pending_nonce_required;
       insert into audit_pending (${PENDING_COLUMNS})
         values (${String(tenantId)}, '${at.toISOString()}', 'staff', '17', 'billing', 'billing.invoicing', 'read',
                 array['${pseudonym}'], array['user.contact.email'], 1, 'allowed', null, 'legacy',
                 decode('${mac.toString('hex')}', 'hex'));
       alter table audit_pending add constraint audit_pending_nonce_required check (nonce is not null) not valid;
       commit`,
    );
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
    expect(await pendingIds(tenantId)).toEqual([]);
    const { rows } = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      `select count(*)::int as n from audit_log where tenant_id = $1 and request_id = 'legacy' and nonce is null`,
      [tenantId],
    );
    expect(rows[0]?.n).toBe(1);
  });
});

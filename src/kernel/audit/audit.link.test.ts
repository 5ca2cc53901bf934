import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { GENESIS_HASH, hashAuditEntry } from './audit.canonical.js';
import { verifyAuditChain, withAudit } from './index.js';
import {
  forgedRowJson,
  createAuditDeps,
  createAuditTenant,
  holdChainHead,
  readEvent,
  runAsAppRole,
  writeRowBeyondHead,
} from './audit.test-helpers.js';

// Attack finding S11-4, decision 0685: the app role may no longer insert into audit_log or move
// audit_heads. Rows enter the chain only through kluis_audit_link, which refuses any that do not
// continue the locked head; an intruder with the app role's login can then append only properly
// linked rows, which move the head (nothing is blocked) and which verification names as unsigned.

let database: TestDatabase;
let deps: ReturnType<typeof createAuditDeps>;
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createAuditDeps(database);
});
afterAll(async () => database.close());

interface Head {
  seq: number;
  hash: Buffer;
}

async function headOf(tenantId: number): Promise<Head | undefined> {
  const { rows } = await runAsOwner<{ seq: string; hash: Buffer }>(
    database.ownerUrl,
    'select seq::text as seq, hash from audit_heads where tenant_id = $1',
    [tenantId],
  );
  return rows[0] && { seq: Number(rows[0].seq), hash: rows[0].hash };
}

async function entriesOf(tenantId: number): Promise<number> {
  const { rows } = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from audit_log where tenant_id = $1',
    [tenantId],
  );
  return rows[0]?.n ?? -1;
}

async function appendReads(tenantId: number, count: number): Promise<void> {
  for (let i = 0; i < count; i += 1) {
    await withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([i + 1]))));
  }
}

const bytea = (value: Buffer): string => `\\x${value.toString('hex')}`;

/**
 * `count` rows chained onto `head` as anyone who knows the (public) algorithm can make them:
 * the right seqs, links and hashes; the MACs random, as the tenant's key is not at hand.
 */
function linkedRows(tenantId: number, head: Head, count: number): Array<Record<string, unknown>> {
  const rows: Array<Record<string, unknown>> = [];
  let prevHash = head.hash;
  for (let seq = head.seq + 1; seq <= head.seq + count; seq += 1) {
    const entry = {
      tenantId,
      seq,
      at: new Date('2026-03-01T09:00:00.000Z'),
      actorKind: 'system' as const,
      actorId: 'intruder',
      role: null,
      purpose: null,
      action: 'forged.linked',
      subjectPseudonyms: [],
      categories: [],
      records: 0,
      decision: 'allowed' as const,
      reason: null,
      requestId: null,
      prevHash,
    };
    rows.push(forgedRowJson(entry));
    prevHash = hashAuditEntry(entry);
  }
  return rows;
}

function linkAsAppRole(tenantId: number, rows: Array<Record<string, unknown>>): Promise<unknown> {
  return runAsAppRole(database.ownerUrl, tenantId, [
    'select kluis_audit_link($1::jsonb) as linked',
    [JSON.stringify(rows)],
  ]).then((result) => (result.rows[0] as { linked: number }).linked);
}

describe('only properly linked rows enter audit_log (attack S11-4, decision 0685)', () => {
  it("S11-4 refused: the attack's row beyond the head, as the app role, is a permission error; nothing is written and the next audited write chains", async () => {
    const tenantId = await createAuditTenant(database.db, 'link-refused');
    await appendReads(tenantId, 2);
    const head = await headOf(tenantId);

    await expect(writeRowBeyondHead(database.ownerUrl, tenantId)).rejects.toThrow(
      /permission denied for table audit_log/,
    );
    expect(await entriesOf(tenantId)).toBe(2);
    expect(await headOf(tenantId)).toEqual(head);
    const privileges = await runAsOwner<Record<string, boolean>>(
      database.ownerUrl,
      `select has_table_privilege('kluis_app', 'audit_log', 'insert') as log_insert,
              has_table_privilege('kluis_app', 'audit_heads', 'insert') as head_insert,
              has_column_privilege('kluis_app', 'audit_heads', 'seq', 'update') as head_seq_update,
              has_column_privilege('kluis_app', 'audit_heads', 'hash', 'update') as head_hash_update`,
    );
    expect(privileges.rows).toEqual([
      { log_insert: false, head_insert: false, head_seq_update: false, head_hash_update: false },
    ]);

    await appendReads(tenantId, 1);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 3, checkpoints: 0 });
  });

  it('the app role locks the head but cannot move it back or forward, nor make one of its own', async () => {
    const tenantId = await createAuditTenant(database.db, 'link-head');
    await appendReads(tenantId, 3);
    const head = await headOf(tenantId);

    // The head lock every appender takes still works as the app role.
    const locked = await runAsAppRole(database.ownerUrl, tenantId, [
      'select seq::int from audit_heads where tenant_id = $1 for update',
      [tenantId],
    ]);
    expect(locked.rows).toEqual([{ seq: 3 }]);
    // Back onto entry 2 and its real hash (0680's "what closing it takes", point 1), or forward.
    await expect(
      runAsAppRole(database.ownerUrl, tenantId, [
        `update audit_heads set seq = 2, hash = (select hash from audit_log where tenant_id = $1 and seq = 2)
          where tenant_id = $1`,
        [tenantId],
      ]),
    ).rejects.toThrow(/permission denied for table audit_heads/);
    await expect(
      runAsAppRole(database.ownerUrl, tenantId, [
        'update audit_heads set seq = seq + 1 where tenant_id = $1',
        [tenantId],
      ]),
    ).rejects.toThrow(/permission denied for table audit_heads/);
    expect(await headOf(tenantId)).toEqual(head);

    // A tenant without a head: the app role cannot plant one at a seq of its choosing; the
    // function makes it at seq 0 with the genesis hash, and leaves an existing head alone.
    const fresh = await createAuditTenant(database.db, 'link-first-head');
    await expect(
      runAsAppRole(database.ownerUrl, fresh, [
        'insert into audit_heads (tenant_id, seq, hash) values ($1, 5, $2)',
        [fresh, randomBytes(32)],
      ]),
    ).rejects.toThrow(/permission denied for table audit_heads/);
    expect(await headOf(fresh)).toBeUndefined();
    await runAsAppRole(database.ownerUrl, fresh, ['select kluis_audit_open_head()']);
    expect(await headOf(fresh)).toEqual({ seq: 0, hash: GENESIS_HASH });
    await runAsAppRole(database.ownerUrl, tenantId, ['select kluis_audit_open_head()']);
    expect(await headOf(tenantId)).toEqual(head);
    await appendReads(fresh, 2);
    expect(await verifyAuditChain(deps, fresh)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
  });

  it('kluis_audit_link refuses rows that do not continue the locked head and writes nothing', async () => {
    const tenantId = await createAuditTenant(database.db, 'link-checks');
    const other = await createAuditTenant(database.db, 'link-checks-other');
    await appendReads(tenantId, 2);
    const head = await headOf(tenantId);
    if (!head) throw new Error('no head');
    const [first, second] = linkedRows(tenantId, head, 2);
    if (!first || !second) throw new Error('no rows');
    const refusals: Array<[string, Array<Record<string, unknown>>]> = [
      ['a gap before the first row', linkedRows(tenantId, { ...head, seq: head.seq + 1 }, 1)],
      ['the first row not linked to the head', linkedRows(tenantId, { ...head, hash: randomBytes(32) }, 1)],
      ['the second row not linked to the first', [first, { ...second, prev_hash: bytea(randomBytes(32)) }]],
      ['a gap inside the batch', [first, { ...second, seq: head.seq + 3 }]],
      ['a row without a MAC (unsigned)', [first, { ...second, mac: null }]],
      ["another tenant's row", [first, { ...second, tenant_id: other }]],
    ];
    for (const [, rows] of refusals) {
      await expect(linkAsAppRole(tenantId, rows)).rejects.toThrow(
        /do not continue the chain head|row-level security/,
      );
    }
    // Onto an entry already written: the primary key refuses it (an entry is never overwritten).
    await expect(
      linkAsAppRole(tenantId, linkedRows(tenantId, { ...head, seq: head.seq - 1 }, 1)),
    ).rejects.toThrow(/duplicate key/);
    expect(await entriesOf(tenantId)).toBe(2);
    expect(await entriesOf(other)).toBe(0);
    expect(await headOf(tenantId)).toEqual(head);
    expect(await verifyAuditChain(deps, tenantId)).toEqual({ ok: true, entries: 2, checkpoints: 0 });
  });

  it('properly linked rows signed without the key go in and move the head: verification names them, and the chain is not blocked', async () => {
    const tenantId = await createAuditTenant(database.db, 'link-forged');
    await appendReads(tenantId, 2);
    const head = await headOf(tenantId);
    if (!head) throw new Error('no head');
    expect(await linkAsAppRole(tenantId, linkedRows(tenantId, head, 2))).toBe(2);
    expect(await headOf(tenantId)).toMatchObject({ seq: 4 });
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      entries: 2,
      firstBadSeq: 3,
      problem: 'entry_mac_invalid',
    });
    // Kluis chains on after them: an audited write still succeeds.
    await appendReads(tenantId, 1);
    expect(await entriesOf(tenantId)).toBe(5);
    expect(await headOf(tenantId)).toMatchObject({ seq: 5 });
  });

  it('kluis_audit_link_onto (decision 0715) locks the head itself: a caller cannot skip the check, and a busy or moved head writes nothing', async () => {
    const tenantId = await createAuditTenant(database.db, 'link-onto');
    const other = await createAuditTenant(database.db, 'link-onto-other');
    await appendReads(tenantId, 2);
    const head = await headOf(tenantId);
    if (!head) throw new Error('no head');
    const linkOnto = (expected: Head, rows: Array<Record<string, unknown>>): Promise<unknown> =>
      runAsAppRole(database.ownerUrl, tenantId, [
        'select kluis_audit_link_onto($1, $2, $3::jsonb) as linked',
        [expected.seq, expected.hash, JSON.stringify(rows)],
      ]).then((result) => (result.rows[0] as { linked: number | null }).linked);
    const [first, second] = linkedRows(tenantId, head, 2);
    if (!first || !second) throw new Error('no rows');

    // Told the true head, with one row or two that do not continue it: refused, as kluis_audit_link.
    const refusals: Array<Array<Record<string, unknown>>> = [
      linkedRows(tenantId, { ...head, seq: head.seq + 1 }, 1),
      linkedRows(tenantId, { ...head, hash: randomBytes(32) }, 1),
      [{ ...first, mac: null }],
      [{ ...first, tenant_id: other }],
      [first, { ...second, prev_hash: bytea(randomBytes(32)) }],
      [first, { ...second, mac: null }],
    ];
    for (const rows of refusals) {
      await expect(linkOnto(head, rows)).rejects.toThrow(/do not continue the chain head|row-level security/);
    }
    // Onto an entry already written: the primary key refuses it.
    await expect(linkOnto(head, [{ ...first, seq: head.seq }])).rejects.toThrow(/duplicate key/);
    // Told a head that is not the head (its rows chained onto that one): nothing written, null.
    const stale = { seq: head.seq - 1, hash: randomBytes(32) };
    expect(await linkOnto(stale, linkedRows(tenantId, stale, 1))).toBeNull();
    // The head held by another transaction: null at once, nothing written.
    const release = await holdChainHead(database.ownerUrl, tenantId);
    try {
      expect(await linkOnto(head, [first])).toBeNull();
    } finally {
      await release();
    }
    expect(await entriesOf(tenantId)).toBe(2);
    expect(await entriesOf(other)).toBe(0);
    expect(await headOf(tenantId)).toEqual(head);

    // Properly linked rows go in and move the head, one or two at a time.
    expect(await linkOnto(head, [first])).toBe(1);
    const afterOne = { seq: head.seq + 1, hash: Buffer.from(String(first.hash).slice(2), 'hex') };
    expect(await headOf(tenantId)).toEqual(afterOne);
    expect(await linkOnto(afterOne, linkedRows(tenantId, afterOne, 2))).toBe(2);
    expect(await headOf(tenantId)).toMatchObject({ seq: head.seq + 3 });
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({
      ok: false,
      firstBadSeq: 3,
      problem: 'entry_mac_invalid',
    });
  });

  it('the functions run as their owner with a fixed search_path, and only the app role may call them', async () => {
    const { rows } = await runAsOwner<{
      name: string;
      definer: boolean;
      config: string[] | null;
      app: boolean;
      everyone: boolean;
    }>(
      database.ownerUrl,
      `select p.proname as name, p.prosecdef as definer, p.proconfig as config,
              has_function_privilege('kluis_app', p.oid, 'execute') as app,
              coalesce((select bool_or(a.grantee = 0) from aclexplode(p.proacl) as a), true) as everyone
         from pg_proc p
        where p.proname in ('kluis_audit_link', 'kluis_audit_link_onto', 'kluis_audit_open_head')
        order by p.proname`,
    );
    const expected = { definer: true, config: ['search_path=public, pg_temp'], app: true, everyone: false };
    expect(rows).toEqual([
      { name: 'kluis_audit_link', ...expected },
      { name: 'kluis_audit_link_onto', ...expected },
      { name: 'kluis_audit_open_head', ...expected },
    ]);
  });
});

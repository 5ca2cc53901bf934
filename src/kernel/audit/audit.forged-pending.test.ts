import { readFile } from 'node:fs/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { chainPendingEntries } from './audit.service.js';
import { verifyAuditChain, withAudit, type AuditDeps } from './index.js';
import {
  createWatchedAuditDeps,
  type LoggedLine,
  createAuditTenant,
  holdChainHead,
  readEvent,
  runAsAppRole,
  countPendingEntries,
  untilPending,
} from './audit.test-helpers.js';

// Attack finding S12-2, decision 0710: rows the app role inserts into audit_pending without
// Kluis's signature were checked again by every chain run of the tenant, silently. Each is now
// judged once per process, the log says how many there are, and the README's runbook removes them.

let database: TestDatabase;
let deps: AuditDeps;
let macs = 0;
const logged: LoggedLine[] = [];
beforeAll(async () => {
  database = await createTestDatabase();
  deps = createWatchedAuditDeps(database, logged, (next) => (tenantId, data) => {
    macs += 1;
    return next(tenantId, data);
  });
});
afterAll(async () => database.close());

const FORGED = 1_200;

function record(tenantId: number, subjectId: number): Promise<void> {
  return withAudit(deps, tenantId, ({ audit }) => Promise.resolve(audit.record(readEvent([subjectId]))));
}

/** The README's runbook (its SQL without psql's \copy), run as the owner for `tenantId`. */
async function runRunbook(tenantId: number, beforeDelete: () => Promise<void>): Promise<void> {
  const readme = await readFile(new URL('../../../README.md', import.meta.url), 'utf8');
  const marker = readme.indexOf('<!-- runbook: audit-pending-not-kluis');
  const block = /```sql\n([\s\S]*?)```/.exec(readme.slice(marker));
  if (marker < 0 || !block?.[1]) throw new Error('the runbook is not in the README');
  const [settings, highest, remove] = block[1]
    .replaceAll("'7'", `'${String(tenantId)}'`)
    .replaceAll('tenant_id = 7', `tenant_id = ${String(tenantId)}`)
    .split('\n')
    .filter((line) => line.trim() !== '' && !line.startsWith('--') && !line.startsWith('\\copy'));
  if (!settings || !highest || !remove) throw new Error('the runbook changed shape');
  const client = new pg.Client({ connectionString: database.ownerUrl });
  await client.connect();
  try {
    await client.query(settings);
    const { rows } = await client.query<{ max: string }>(highest);
    await beforeDelete();
    await client.query(remove.replace(/<= \d+/, `<= ${String(rows[0]?.max)}`));
  } finally {
    await client.end();
  }
}

describe('pending entries not signed by Kluis (attack S12-2, decision 0710)', () => {
  it('are judged once per process, logged once with their count and ids, never chained; the README runbook removes them and the chain verifies', async () => {
    const tenantId = await createAuditTenant(database.db, 'forged-pending');
    await record(tenantId, 1);
    // The attack's flood, as the app role: signed by nobody, each with a nonce of its own.
    await runAsAppRole(database.ownerUrl, tenantId, [
      `insert into audit_pending (tenant_id, at, actor_kind, actor_id, role, purpose, action,
         subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
       select $1, now(), 'system', 'x', null, null, 'forged.flood', '{}', '{}', 0, 'allowed', null, null,
              sha256(g::text::bytea), substring(sha256(g::text::bytea) from 1 for 16)
         from generate_series(1, ${String(FORGED)}) g`,
      [tenantId],
    ]);

    macs = 0;
    expect(await chainPendingEntries(deps, tenantId)).toBe(0);
    expect(macs).toBe(FORGED);
    const lines = logged.filter((line) => line.fields.tenantId === tenantId);
    expect(lines).toHaveLength(1);
    expect(lines[0]?.fields).toMatchObject({ forgedPending: FORGED });
    expect(lines[0]?.message).toContain(`${String(FORGED)} pending entries of tenant ${String(tenantId)}`);

    // The next runs read them but check none of them again, and the log does not repeat itself.
    await record(tenantId, 2);
    macs = 0;
    expect(await chainPendingEntries(deps, tenantId)).toBe(0);
    expect(macs).toBe(0);
    expect(logged.filter((line) => line.fields.tenantId === tenantId)).toHaveLength(1);
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(FORGED);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: false, problem: 'entry_mac_invalid' });

    await runRunbook(tenantId, async () => {
      // Step 1's "then run kluis audit verify": it chains first.
      await verifyAuditChain(deps, tenantId);
    });
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 2 });
    await record(tenantId, 3);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 3 });
  });

  it('a forged row that took a future pending id does not hide the entry Kluis writes that gets the id once the owner deleted it', async () => {
    const tenantId = await createAuditTenant(database.db, 'forged-future-id');
    await record(tenantId, 1);
    const { rows } = await runAsAppRole(database.ownerUrl, tenantId, [
      `insert into audit_pending (pending_id, tenant_id, at, actor_kind, actor_id, role, purpose, action,
         subject_pseudonyms, categories, records, decision, reason, request_id, mac, nonce)
       overriding system value
       select s.last_value + 1, $1, now(), 'system', 'x', null, null, 'forged.future', '{}', '{}', 0,
              'allowed', null, null, sha256('future'::bytea), substring(sha256('nonce'::bytea) from 1 for 16)
         from audit_pending_pending_id_seq s
       returning pending_id`,
      [tenantId],
    ]);
    const futureId = Number((rows[0] as { pending_id: string }).pending_id);
    expect(await chainPendingEntries(deps, tenantId)).toBe(0);
    await runAsOwner(database.ownerUrl, 'delete from audit_pending where tenant_id = $1', [tenantId]);

    // Kluis's own entry goes pending behind a held head and gets the id the forged row had.
    const release = await holdChainHead(database.ownerUrl, tenantId);
    const appending = record(tenantId, 2);
    try {
      await untilPending(database.ownerUrl, tenantId);
      const { rows: pending } = await runAsOwner<{ id: string }>(
        database.ownerUrl,
        'select pending_id as id from audit_pending where tenant_id = $1',
        [tenantId],
      );
      expect(pending.map((row) => Number(row.id))).toEqual([futureId]);
    } finally {
      await release();
    }
    // The write waits for the chain run that links its entry: nothing is left behind.
    await appending;
    expect(await countPendingEntries(database.ownerUrl, tenantId)).toBe(0);
    expect(await verifyAuditChain(deps, tenantId)).toMatchObject({ ok: true, entries: 2 });
  });
});

import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createPerson, getPerson, type UseCaseContext } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { COMMIT_NOTING_WRITES, createAppDb } from '../../platform/db.js';
import type { Kernel } from '../kernel.js';
import { setMarketingObjection, setRestriction } from '../subjects/index.js';
import type { Actor } from './gate.js';

// Decision 0370, step 2: a gated read asks for the subjects' states and the rows in one
// statement, and the rows of a subject the gate refuses never leave the database. Decision 0450:
// the same statement writes the read's audit entry, so the read commits in the bare read's round
// trips. Decision 0480: that entry always goes to audit_pending (the read never takes the chain
// head); the chainer links it after the commit, and every reader of the chain chains first.

interface Sent {
  text: string;
  /** Sent in the round trip of the transaction's begin, behind it (decision 0570). */
  behindBegin: boolean;
  /** Rows of the statement's answer that carry data (gate_part 2) rather than states. */
  dataRows: number;
  /** The pool client it went on: the read's own statements, apart from a chain run's beside it. */
  connection: object;
}

let database: TestDatabase;
let kernel: Kernel;
let tenant: Tenant;
const sent: Sent[] = [];
let closeRecording: () => Promise<void>;

beforeAll(async () => {
  database = await createTestDatabase();
  const recording = createAppDb({
    connectionString: database.ownerUrl,
    assumeAppRole: true,
    logger: testLogger,
    max: 4,
  });
  recording.pool.on('connect', (client) => recordStatements(client));
  closeRecording = () => recording.db.destroy();
  kernel = createTestKernel({ ...database, db: recording.db });
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await closeRecording();
  await database.close();
});

function recordStatements(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  // Wraps node-postgres's overloaded query(): records each text and what its answer held.
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    // A statement with parameters behind the transaction's `begin` (db.ts BehindBegin, decision
    // 0570) is a query object that says what it sent in its one round trip.
    const behind = args[0] as { sentText?: unknown; answer?: unknown };
    const text =
      typeof args[0] === 'string' ? args[0] : typeof behind.sentText === 'string' ? behind.sentText : '';
    const returned = query(...args);
    const answer = returned instanceof Promise ? returned : behind.answer;
    if (text && answer instanceof Promise) {
      const flat = text.replace(/\s+/g, ' ').trim();
      // The transaction's begin sent in front of its first statement: one round trip, recorded as
      // that statement, marked.
      const afterBegin = /^begin; select set_config\([^;]*\); /.exec(flat);
      const entry: Sent = {
        text: afterBegin ? flat.slice(afterBegin[0].length) : flat,
        behindBegin: afterBegin !== null,
        dataRows: 0,
        connection: client,
      };
      sent.push(entry);
      answer.then(
        (result: pg.QueryResult | pg.QueryResult[]) => {
          // Behind the begin: the begin's results come first, the statement's last.
          const rows = Array.isArray(result) ? (afterBegin ? (result.at(-1)?.rows ?? []) : []) : result.rows;
          entry.dataRows = rows.filter((row) => (row as { gate_part?: number }).gate_part === 2).length;
        },
        () => undefined,
      );
    }
    return answer;
  };
}

const staff = (role: string): Actor => ({ kind: 'staff', staffId: 1, role });
const context = (actor: Actor, purpose: string): UseCaseContext => ({
  tenantId: tenant.tenantId,
  actor,
  purpose,
});

async function newCustomer(): Promise<number> {
  const person = await createPerson(kernel, context(staff('sales'), 'order_processing'), {
    subjectType: 'customer',
    familyName: 'Peeters',
    givenName: 'An',
    email: `c${Math.random().toString(36).slice(2)}@example.be`,
    phone: '0470 12 34 56',
  });
  return person.subjectId;
}

/** The statements one call sends, from its begin to its commit or rollback. */
async function statementsOf(call: () => Promise<unknown>): Promise<Sent[]> {
  sent.length = 0;
  await call().catch(() => undefined);
  return [...sent];
}

/** A chain run's first statement: the head's lock (with its pending rows, or alone). */
function isChainRunLock(entry: Sent): boolean {
  return entry.text.trimStart().startsWith('with head as') || entry.text.includes('from "audit_heads"');
}

/** The chain's entries about the subject; pending ones chained first unless `chainFirst` is false. */
async function auditEntriesAbout(
  subjectId: number,
  chainFirst = true,
): Promise<Array<{ decision: string; action: string; purpose: string | null; reason: string | null }>> {
  if (chainFirst) await chainPendingAudit(kernel, tenant.tenantId);
  const pseudonym = await kernel.keys.pseudonym(tenant.tenantId, subjectId);
  const { rows } = await runAsOwner<{
    decision: string;
    action: string;
    purpose: string | null;
    reason: string | null;
  }>(
    database.ownerUrl,
    `select decision, action, purpose, reason from audit_log
      where tenant_id = $1 and subject_pseudonyms @> array[$2]::text[] order by seq`,
    [tenant.tenantId, pseudonym],
  );
  return rows;
}

async function pendingCount(): Promise<number> {
  const { rows } = await runAsOwner<{ n: number }>(
    database.ownerUrl,
    'select count(*)::int as n from audit_pending where tenant_id = $1',
    [tenant.tenantId],
  );
  return rows[0]?.n ?? 0;
}

/** The commit as the recording shows it (whitespace flattened): it asks whether the transaction wrote. */
const COMMIT = COMMIT_NOTING_WRITES.replace(/\s+/g, ' ');
const isGatedSelect = (entry: Sent): boolean => entry.text.startsWith('with g as materialized');

describe('gated read in one statement', () => {
  it("a read by id is ONE statement with the states, the rows and the audit entry, behind the begin, then the commit: the bare read's round trips; the entry goes to audit_pending and is chained after", async () => {
    const subjectId = await newCustomer();
    const read = () => getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId);
    await read();
    const before = await auditEntriesAbout(subjectId);
    const sentAll = await statementsOf(read);
    // The read's own connection: a chain run (the first read's, 25 ms later, or this one's) goes
    // on connections of its own and may interleave.
    const gated = sentAll.find((entry) => entry.text.startsWith('with g as materialized'));
    const statements = sentAll
      .slice(gated ? sentAll.indexOf(gated) : 0)
      .filter((entry) => entry.connection === gated?.connection);
    const commit = statements.findIndex((entry) => entry.text === COMMIT);
    expect(statements.slice(0, commit + 1).map((entry) => entry.text.slice(0, 30))).toEqual([
      'with g as materialized ( selec',
      COMMIT.slice(0, 30),
    ]);
    // Two round trips: the begin went in front of the gated statement (decision 0570).
    expect(statements[0]?.behindBegin).toBe(true);
    expect(statements[0]?.dataRows).toBe(1);
    // The read never takes the chain head (decision 0480): its entry is a pending row.
    expect(statements[0]?.text).toContain('insert into audit_pending');
    expect(statements[0]?.text).not.toContain('audit_heads');
    expect(statements[0]?.text).not.toContain('insert into audit_log');
    // Once chained, the read's entry is in the chain, allowed, and the chain verifies.
    const after = await auditEntriesAbout(subjectId);
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)).toMatchObject({ decision: 'allowed', action: 'read', purpose: 'order_processing' });
    expect((await kernel.auditLog.verify(tenant.tenantId)).ok).toBe(true);
    expect(await pendingCount()).toBe(0);
    expect((await read()).familyName).toBe('Peeters');
  });

  it('a read while another transaction holds the chain head writes its entry pending in the same statement and returns without waiting for the chain run; the readers of the chain link it first', async () => {
    const subjectId = await newCustomer();
    const read = () => getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId);
    await read();
    const before = await auditEntriesAbout(subjectId);
    const holder = new pg.Client({ connectionString: database.ownerUrl });
    await holder.connect();
    await holder.query('begin');
    await holder.query('select 1 from audit_heads where tenant_id = $1 for update', [tenant.tenantId]);
    let statements: Sent[];
    try {
      // Decision 0455: the read returns while the head is still held, so before any chain run.
      statements = await statementsOf(read);
      expect(await pendingCount()).toBe(1);
      expect(await auditEntriesAbout(subjectId, false)).toHaveLength(before.length);
    } finally {
      await holder.query('commit');
      await holder.end();
    }
    // The chain run the read asks for starts 25 ms later and waits on the held head; on a loaded
    // machine its first statement can be sent before the read's commit: it is not the read's.
    const ofTheRead = statements.filter((entry) => !isChainRunLock(entry));
    expect(ofTheRead.slice(0, 2).map((entry) => [entry.behindBegin, entry.text.slice(0, 30)])).toEqual([
      [true, 'with g as materialized ( selec'],
      [false, COMMIT.slice(0, 30)],
    ]);
    // Verification chains what is pending first: the entry is in the chain, once.
    expect((await kernel.auditLog.verify(tenant.tenantId)).ok).toBe(true);
    expect(await pendingCount()).toBe(0);
    const after = await auditEntriesAbout(subjectId);
    expect(after.length).toBe(before.length + 1);
    expect(after.at(-1)).toMatchObject({ decision: 'allowed', action: 'read', purpose: 'order_processing' });
  });

  it('a write right after a read is chained after the read: this process keeps its order in the chain', async () => {
    const subjectId = await newCustomer();
    await getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId);
    // The read returned before its chain run; the restriction's entry queues behind it.
    await kernel.transact(tenant.tenantId, (atx) => setRestriction(atx, subjectId, true, new Date()));
    await expect(
      getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId),
    ).rejects.toMatchObject({ code: 'subject_restricted' });
    const entries = await auditEntriesAbout(subjectId);
    expect(entries.slice(-3).map((entry) => [entry.action, entry.decision])).toEqual([
      ['read', 'allowed'],
      ['subject.restrict', 'allowed'],
      ['read', 'denied'],
    ]);
    expect((await kernel.auditLog.verify(tenant.tenantId)).ok).toBe(true);
  });

  it('the chain run a read asks for waits a moment (reads that follow can share it); the entry is linked without anyone asking', async () => {
    const subjectId = await newCustomer();
    const other = await newCustomer();
    const read = () => getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId);
    // A write waits for every chain run this process started or asked for: none is left after it.
    await kernel.transact(tenant.tenantId, (atx) => setMarketingObjection(atx, other, new Date()));
    const before = await auditEntriesAbout(subjectId, false);
    sent.length = 0;
    await read();
    // Checked before a timer can fire: no chain run has touched the head yet (decision 0570).
    expect(sent.filter(isGatedSelect)).toHaveLength(1);
    expect(sent.filter((entry) => entry.text.includes('audit_heads'))).toEqual([]);
    // The run starts by itself and links the entry.
    await vi.waitFor(async () => expect(await pendingCount()).toBe(0), { timeout: 10_000, interval: 20 });
    expect(await auditEntriesAbout(subjectId, false)).toHaveLength(before.length + 1);
    expect(sent.filter((entry) => entry.text.includes('audit_heads')).length).toBeGreaterThan(0);
    expect((await kernel.auditLog.verify(tenant.tenantId)).ok).toBe(true);
  });

  it('the gated statement is built once per shape (decision 0855): reads of other people under the same purpose send the same text, a purpose of another guard shape its own', async () => {
    const [first, second] = [await newCustomer(), await newCustomer()];
    const textOf = async (purpose: string, role: string, subjectId: number): Promise<string | undefined> => {
      const statements = await statementsOf(() =>
        getPerson(kernel, context(staff(role), purpose), subjectId),
      );
      const gated = statements.filter(isGatedSelect);
      expect(gated.map((entry) => entry.dataRows)).toEqual([1]);
      return gated[0]?.text;
    };
    const contract = await textOf('order_processing', 'billing', first);
    expect(await textOf('order_processing', 'billing', second)).toBe(contract);
    // Legal obligation (accounting): no check on the purpose's state, as the contract.
    expect(await textOf('accounting', 'billing', second)).toBe(contract);
    // The entry is a parameter too, not in the text.
    expect(contract).toMatch(/jsonb_populate_record\(null::audit_pending, \$\d+::jsonb\)/);
    // A marketing purpose under legitimate interests: its own text, with the checks of its shape.
    const marketing = (
      await statementsOf(() => getPerson(kernel, context(staff('sales'), 'newsletter_customers'), first))
    ).filter(isGatedSelect);
    expect(marketing).toHaveLength(1);
    expect(marketing[0]?.text).not.toBe(contract);
    expect(marketing[0]?.text).toContain(
      'and g.gate_marketing_objected_at is null and (g.gate_purpose_state is null or g.gate_purpose_state = any(',
    );
    expect(contract).toContain('and true and true )');
  });

  it('a refused read writes no "allowed" entry: only the refusal is on record', async () => {
    const subjectId = await newCustomer();
    await getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId);
    await kernel.transact(tenant.tenantId, (atx) => setRestriction(atx, subjectId, true, new Date()));
    const before = await auditEntriesAbout(subjectId);
    await expect(
      getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId),
    ).rejects.toMatchObject({ code: 'subject_restricted' });
    const added = (await auditEntriesAbout(subjectId)).slice(before.length);
    expect(added.map((entry) => [entry.decision, entry.reason])).toEqual([['denied', 'subject_restricted']]);
    expect((await kernel.auditLog.verify(tenant.tenantId)).ok).toBe(true);
  });

  it('the rows of a restricted person are not sent for a purpose the restriction stops; the refusal is audited', async () => {
    const subjectId = await newCustomer();
    await kernel.transact(tenant.tenantId, (atx) => setRestriction(atx, subjectId, true, new Date()));
    const statements = await statementsOf(() =>
      getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId),
    );
    const gated = statements.filter(isGatedSelect);
    expect(gated).toHaveLength(1);
    expect(gated[0]?.dataRows).toBe(0);
    // Nothing else read the person: the transaction rolled back and the refusal was appended.
    expect(statements.some((entry) => entry.text.startsWith('select "p".*'))).toBe(false);
    expect(statements.map((entry) => entry.text)).toContain('rollback');
    await expect(
      getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId),
    ).rejects.toMatchObject({ code: 'subject_restricted' });
  });

  it('a restricted person is still read under a legal obligation: the rows follow the decision in a statement of their own', async () => {
    const subjectId = await newCustomer();
    await kernel.transact(tenant.tenantId, (atx) => setRestriction(atx, subjectId, true, new Date()));
    const read = () => getPerson(kernel, context(staff('billing'), 'accounting'), subjectId);
    const statements = await statementsOf(read);
    expect(statements.filter(isGatedSelect).map((entry) => entry.dataRows)).toEqual([0]);
    expect(statements.filter((entry) => entry.text.startsWith('select "p".*'))).toHaveLength(1);
    expect((await read()).familyName).toBe('Peeters');
  });

  it('an objection to marketing withholds the rows from a marketing purpose only', async () => {
    const subjectId = await newCustomer();
    await kernel.transact(tenant.tenantId, (atx) => setMarketingObjection(atx, subjectId, new Date()));
    const marketing = await statementsOf(() =>
      getPerson(kernel, context(staff('sales'), 'newsletter_customers'), subjectId),
    );
    expect(marketing.filter(isGatedSelect).map((entry) => entry.dataRows)).toEqual([0]);
    await expect(
      getPerson(kernel, context(staff('sales'), 'newsletter_customers'), subjectId),
    ).rejects.toMatchObject({ code: 'subject_objected' });
    const contract = await statementsOf(() =>
      getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId),
    );
    expect(contract.filter(isGatedSelect).map((entry) => entry.dataRows)).toEqual([1]);
  });

  it('a role the purpose does not list is refused before anything is read', async () => {
    const subjectId = await newCustomer();
    const statements = await statementsOf(() =>
      getPerson(kernel, context(staff('sales'), 'accounting'), subjectId),
    );
    expect(statements.filter(isGatedSelect)).toEqual([]);
    await expect(getPerson(kernel, context(staff('sales'), 'accounting'), subjectId)).rejects.toMatchObject({
      code: 'role_not_allowed',
    });
  });

  it('a person who does not exist gets the same not_found, and no rows', async () => {
    const statements = await statementsOf(() =>
      getPerson(kernel, context(staff('billing'), 'order_processing'), 987_654_321),
    );
    expect(statements.filter(isGatedSelect).map((entry) => entry.dataRows)).toEqual([0]);
    await expect(
      getPerson(kernel, context(staff('billing'), 'order_processing'), 987_654_321),
    ).rejects.toMatchObject({ code: 'not_found' });
  });
});

import type pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, testLogger, type TestDatabase } from '../../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createPerson, getPerson, type UseCaseContext } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { createAppDb } from '../../platform/db.js';
import type { Kernel } from '../kernel.js';
import { setMarketingObjection, setRestriction } from '../subjects/index.js';
import type { Actor } from './gate.js';

// Decision 0370, step 2: a gated read asks for the subjects' states and the rows in one
// statement, and the rows of a subject the gate refuses never leave the database.

interface Sent {
  text: string;
  /** Rows of the statement's answer that carry data (gate_part 2) rather than states. */
  dataRows: number;
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
    const text = typeof args[0] === 'string' ? args[0] : '';
    const answer = query(...args);
    if (text && answer instanceof Promise) {
      const entry: Sent = { text: text.replace(/\s+/g, ' ').trim(), dataRows: 0 };
      sent.push(entry);
      answer.then(
        (result: pg.QueryResult | pg.QueryResult[]) => {
          const rows = Array.isArray(result) ? [] : result.rows;
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

const isGatedSelect = (entry: Sent): boolean => entry.text.startsWith('with g as materialized');

describe('gated read in one statement', () => {
  it('a read by id is begin, one statement with the states and the rows, the audit append, commit', async () => {
    const subjectId = await newCustomer();
    const read = () => getPerson(kernel, context(staff('billing'), 'order_processing'), subjectId);
    await read(); // this process now knows the chain head: the append is one statement
    const statements = await statementsOf(read);
    expect(statements.map((entry) => entry.text.slice(0, 30))).toEqual([
      `begin; select set_config('app.`,
      'with g as materialized ( selec',
      'with head as ( select seq, has',
      'commit',
    ]);
    expect(statements[1]?.dataRows).toBe(1);
    expect((await read()).familyName).toBe('Peeters');
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

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { closeProxiedKernel, createProxiedKernel } from '../../../test/proxied-kernel.js';
import { startProxy, type TcpProxy } from '../../../test/tcp-proxy.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Db } from '../../platform/db.js';
import type { Tenant } from '../tenants/index.js';

// Attack S12-3 (decision 0725): the database lost around the commit of a person's correction.

let database: TestDatabase;
let proxy: TcpProxy;
let proxied: Db;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let sales: StaffSession;

/** What the proxy does at the next commit answered after a correction of `people` was sent. */
type AtCommit = 'nothing' | 'lose-the-answer' | 'cut-after-the-answer';
let atCommit: AtCommit = 'nothing';
/** Connections that sent a correction whose commit has not been answered yet. */
const correcting = new Set<number>();

const PEOPLE_UPDATE = Buffer.from('update "people"');
const COMMIT_DONE = Buffer.from('COMMIT\0');

beforeAll(async () => {
  database = await createTestDatabase();
  proxy = await startProxy(new URL(database.ownerUrl), {
    watch: (data, connection) => {
      if (atCommit !== 'nothing' && data.includes(PEOPLE_UPDATE)) correcting.add(connection);
    },
    watchReply: (data, connection) => {
      if (!correcting.has(connection) || !data.includes(COMMIT_DONE)) return;
      correcting.delete(connection);
      const action = atCommit;
      atCommit = 'nothing';
      // The server has committed: its answer is lost, or it arrives and the database goes after it.
      if (action === 'lose-the-answer') void proxy.cut();
      else if (action === 'cut-after-the-answer') return () => void proxy.cut();
    },
  });
  ({ db: proxied, kernel } = createProxiedKernel(database, proxy));
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, voxtra, 'sales');
}, 120_000);
afterAll(async () => closeProxiedKernel({ app, proxied, proxy, database }));
beforeEach(async () => {
  atCommit = 'nothing';
  correcting.clear();
  await proxy.restore();
});

const PURPOSE = 'customer_administration';

async function createCustomer(familyName: string): Promise<number> {
  const created = await requestAs(app, sales, PURPOSE)('POST', '/api/v1/people', {
    subjectType: 'customer',
    familyName,
    givenName: 'Els',
    email: `${familyName.toLowerCase()}@mail.example`,
  });
  expect(created.statusCode, created.body).toBe(201);
  return created.json<{ subjectId: number }>().subjectId;
}

/** The entries of one request, as the owner reads them (the committed chain and the pending ones). */
async function entriesOf(requestId: string): Promise<string[]> {
  const { rows } = await runAsOwner<{ action: string; decision: string }>(
    database.ownerUrl,
    `select action, decision from audit_log where tenant_id = $1 and request_id = $2
     union all
     select action, decision from audit_pending where tenant_id = $1 and request_id = $2
     order by 1`,
    [voxtra.tenantId, requestId],
  );
  return rows.map((row) => `${row.action} ${row.decision}`);
}

async function familyNameAfterRestore(id: number): Promise<string | undefined> {
  await proxy.restore();
  const read = await requestAs(app, sales, PURPOSE)('GET', `/api/v1/people/${id}`);
  expect(read.statusCode, read.body).toBe(200);
  return read.json<{ familyName?: string }>().familyName;
}

describe('a correction whose database is lost around its commit (attack S12-3)', () => {
  it('the database lost right after the commit answered: the PATCH answers 200 with the corrected person, and its write and read entries were committed together', async () => {
    const id = await createCustomer('Janssens');
    atCommit = 'cut-after-the-answer';
    const patched = await requestAs(app, sales, PURPOSE)('PATCH', `/api/v1/people/${id}`, {
      familyName: 'Janssens-Claes',
    });
    expect(atCommit, 'the proxy saw the commit').toBe('nothing');
    expect(patched.statusCode, patched.body).toBe(200);
    expect(patched.json()).toMatchObject({ subjectId: id, familyName: 'Janssens-Claes', givenName: 'Els' });
    const requestId = String(patched.headers['x-request-id']);
    expect(await entriesOf(requestId)).toEqual(['read allowed', 'write allowed']);
    expect(await familyNameAfterRestore(id)).toBe('Janssens-Claes');
  });

  it("the commit's answer lost (the server committed): the 503 says the outcome is unknown and that repeating the PATCH is safe; the repeat answers 200", async () => {
    const id = await createCustomer('Peeters');
    atCommit = 'lose-the-answer';
    const patch = () =>
      requestAs(app, sales, PURPOSE)('PATCH', `/api/v1/people/${id}`, { familyName: 'Peeters-Wouters' });
    const lost = await patch();
    expect(atCommit, 'the proxy saw the commit').toBe('nothing');
    expect(lost.statusCode, lost.body).toBe(503);
    expect(lost.json()).toMatchObject({
      code: 'database_unavailable',
      details: { outcome: 'unknown' },
    });
    expect(lost.json<{ detail: string }>().detail).toMatch(/may have been saved/);
    // It was: both entries are on record, and the person is corrected.
    expect(await entriesOf(String(lost.headers['x-request-id']))).toEqual(['read allowed', 'write allowed']);
    expect(await familyNameAfterRestore(id)).toBe('Peeters-Wouters');
    const repeated = await patch();
    expect(repeated.statusCode, repeated.body).toBe(200);
    expect(repeated.json()).toMatchObject({ familyName: 'Peeters-Wouters' });
  });
});

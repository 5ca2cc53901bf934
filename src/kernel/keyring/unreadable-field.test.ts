/**
 * Decision 1120: a field this installation's key store cannot open (data and key store that do
 * not belong together, or a row altered by hand) answers a stable code over HTTP, not a bare 500.
 */
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { createPerson } from '../../modules/parties/index.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { buildApp } from '../../http/app.js';
import { createLogger } from '../../platform/logger.js';
import type { Kernel } from '../kernel.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;
let sales: StaffSession;
/** The server's log lines, to see what the operator is told. */
const logLines: string[] = [];

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      logLines.push(chunk.toString());
      done();
    },
  });
  app = await buildApp({ kernel, logger: createLogger({ level: 'info', destination }), version: 'test' });
  tenant = await createPolicyTenant(kernel, 'voxtra');
  sales = await loginAs(app, kernel, tenant, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const context = () => ({
  tenantId: tenant.tenantId,
  actor: { kind: 'staff' as const, staffId: 1, role: 'sales' },
  purpose: 'customer_administration',
});

/** Another data key's ciphertext in the row of `to`: what a key store of another lineage looks like. */
async function swapEmail(from: number, to: number): Promise<void> {
  await runAsOwner(
    database.ownerUrl,
    'update people set email_enc = (select email_enc from people where tenant_id = $1 and subject_id = $2) where tenant_id = $1 and subject_id = $3',
    [tenant.tenantId, from, to],
  );
}

describe('a field that cannot be opened (attack S23-3, decision 1120)', () => {
  it('GET /api/v1/people/:id of a person whose e-mail does not open answers 500 field_unreadable with a message for the operator', async () => {
    const context = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff' as const, staffId: 1, role: 'sales' },
      purpose: 'customer_administration',
    };
    const make = (email: string, familyName: string) =>
      createPerson(kernel, context, { subjectType: 'customer', familyName, givenName: 'Test', email });
    const a = await make('a.unreadable@example.be', 'Aerts');
    const b = await make('b.unreadable@example.be', 'Bauwens');
    // Another data key's ciphertext in b's row: what a key store of another installation looks like.
    await runAsOwner(
      database.ownerUrl,
      'update people set email_enc = (select email_enc from people where tenant_id = $1 and subject_id = $2) where tenant_id = $1 and subject_id = $3',
      [tenant.tenantId, a.subjectId, b.subjectId],
    );
    const response = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${b.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'customer_administration' },
    });
    expect(response.statusCode).toBe(500);
    const body = response.json<{ code: string; detail: string; details: unknown }>();
    expect(body.code).toBe('field_unreadable');
    expect(body.detail).toMatch(/cannot be read with this installation’s key store/);
    expect(body.details).toEqual({ table: 'people', column: 'email_enc' });
    const readable = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${a.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'customer_administration' },
    });
    expect(readable.statusCode).toBe(200);
  });

  it('GET /api/v1/people holds back a person whose e-mail does not open, counts them in unreadable and logs table, column, tenant and row id at error level; the rest of the page and the search by address answer 200 (attack S23B-3)', async () => {
    const make = (email: string, familyName: string) =>
      createPerson(kernel, context(), { subjectType: 'customer', familyName, givenName: 'Test', email });
    const first = await make('listaert@example.be', 'Listaert');
    const broken = await make('listens@example.be', 'Listens');
    const third = await make('listmans@example.be', 'Listmans');
    const fourth = await make('listot@example.be', 'Listot');
    await swapEmail(first.subjectId, broken.subjectId);
    const get = (query: string) =>
      app.inject({
        method: 'GET',
        url: `/api/v1/people?${query}`,
        headers: { cookie: sales.cookie, 'x-kluis-purpose': 'customer_administration' },
      });
    logLines.length = 0;

    // A page of two: the unreadable person is left out and the page filled from the next one.
    const page = await get('name=List&limit=2');
    expect(page.statusCode).toBe(200);
    const body = page.json<{
      items: Array<{ subjectId: number; email: string }>;
      nextCursor: string;
      unreadable: number;
    }>();
    expect(body.items.map((item) => item.subjectId)).toEqual([first.subjectId, third.subjectId]);
    expect(body.items.map((item) => item.email)).toEqual(['listaert@example.be', 'listmans@example.be']);
    expect(body.unreadable).toBe(1);
    expect(body.nextCursor).toBe(String(third.subjectId));
    const next = await get(`name=List&limit=2&cursor=${body.nextCursor}`);
    expect(next.json()).toMatchObject({
      items: [{ subjectId: fourth.subjectId }],
      nextCursor: null,
      unreadable: 0,
    });

    // The search by the address finds the person and holds them back too.
    const search = await get(`email=${encodeURIComponent('listens@example.be')}`);
    expect(search.statusCode).toBe(200);
    expect(search.json()).toEqual({ items: [], nextCursor: null, unreadable: 1 });

    const logged = logLines
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .filter((line) => line['code'] === 'field_unreadable');
    expect(logged).toHaveLength(2);
    for (const line of logged) {
      expect(line).toMatchObject({
        level: 50,
        tenantId: tenant.tenantId,
        table: 'people',
        column: 'email_enc',
        rowId: String(broken.subjectId),
      });
    }
    expect(logLines.join('\n')).not.toMatch(/listens|Listens|example\.be/);

    // The one-person read keeps its 500 (decision 1120).
    const one = await app.inject({
      method: 'GET',
      url: `/api/v1/people/${broken.subjectId}`,
      headers: { cookie: sales.cookie, 'x-kluis-purpose': 'customer_administration' },
    });
    expect(one.statusCode).toBe(500);
    expect(one.json()).toMatchObject({ code: 'field_unreadable' });
  });
});

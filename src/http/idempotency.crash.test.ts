import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type ServerProcess } from '../../test/cli.js';
import { crashEnv } from '../../test/crash.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import type { Kernel } from '../kernel/kernel.js';
import { createCustomer, prepareTenant, startContract } from '../modules/billing/billing.test-helpers.js';
import type { Tenant } from '../modules/tenants/index.js';
import { belgianDay } from '../platform/calendar.js';
import { systemClock } from '../platform/clock.js';

// A request killed mid-way must not hold its Idempotency-Key for a day, nor let a retry make a
// second credit note (decision 0380).
const masterKey = randomBytes(32);
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let invoiceId: number;
let subscription: number;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  const catalogue = await prepareTenant(kernel, voxtra);
  subscription = catalogue.subscription;
  const customer = await createCustomer(kernel, voxtra, { familyName: 'Aerts' });
  await startContract(kernel, voxtra, customer, {
    startDate: '2026-10-01',
    lines: [{ productId: catalogue.subscription }],
  });
  billing = await loginAs(app, kernel, voxtra, 'billing');
  const run = await app.inject({
    method: 'POST',
    url: '/api/v1/invoice-runs',
    headers: headers(),
    payload: { period: '2026-10', callsPurpose: 'call_billing' },
  });
  expect(run.statusCode, run.body).toBe(200);
  const rows = await runAsOwner<{ invoice_id: number }>(
    database.ownerUrl,
    `select invoice_id from invoices where tenant_id = $1 and kind = 'invoice'`,
    [voxtra.tenantId],
  );
  invoiceId = Number(rows.rows[0]?.invoice_id);
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function headers(key?: string): Record<string, string> {
  return {
    cookie: billing.cookie,
    'x-csrf-token': billing.csrfToken,
    'x-kluis-purpose': 'invoicing',
    ...(key === undefined ? {} : { 'idempotency-key': key }),
  };
}
const creditNote = { reasonCode: 'goodwill', amountExclVatCents: 100 };
const url = (): string => `/api/v1/invoices/${invoiceId}/credit-notes`;

/** The credit note POST in this process (the retry after the crash). */
const retry = (key: string) =>
  app.inject({ method: 'POST', url: url(), headers: headers(key), payload: creditNote });

/** The same POST against a child `kluis serve`; 'died' when the connection broke. */
function postTo(server: ServerProcess, key: string): Promise<Response | 'died'> {
  return fetch(`${server.url}${url()}`, {
    method: 'POST',
    headers: { ...headers(key), 'content-type': 'application/json' },
    body: JSON.stringify(creditNote),
  }).catch(() => 'died' as const);
}

const serveWith = (hook: string): Promise<ServerProcess> =>
  startServer(crashEnv(database, masterKey, { KLUIS_PORT: '0', KLUIS_DEMO: 'false', KLUIS_TEST_HOOK: hook }));

async function creditNotes(): Promise<number> {
  const rows = await runAsOwner<{ count: string }>(
    database.ownerUrl,
    `select count(*) from invoices where tenant_id = $1 and kind = 'credit_note'`,
    [voxtra.tenantId],
  );
  return Number(rows.rows[0]?.count);
}

async function keyState(key: string): Promise<string | undefined> {
  const rows = await runAsOwner<{ state: string }>(
    database.ownerUrl,
    'select state from idempotency_keys where tenant_id = $1 and idempotency_key = $2',
    [voxtra.tenantId, key],
  );
  return rows.rows[0]?.state;
}

describe('Idempotency-Key after a crash (decision 0380)', () => {
  it('a credit-note POST killed (SIGKILL) before it made anything leaves its key to the retry, which makes exactly one credit note', async () => {
    const before = await creditNotes();
    const server = await serveWith('idempotency.claimed:kill');
    try {
      expect(await postTo(server, 'crash-before-work')).toBe('died');
      await server.exited;
    } finally {
      server.child.kill('SIGKILL');
    }
    expect(await keyState('crash-before-work')).toBe('pending');
    expect(await creditNotes()).toBe(before);

    const second = await retry('crash-before-work');
    expect(second.statusCode, second.body).toBe(201);
    expect(await creditNotes()).toBe(before + 1);
    expect(await keyState('crash-before-work')).toBe('done');
    const third = await retry('crash-before-work');
    expect(third.statusCode).toBe(201);
    expect(third.headers['idempotent-replayed']).toBe('true');
    expect(third.json()).toEqual(second.json());
    expect(await creditNotes()).toBe(before + 1);
  });

  it('a credit-note POST killed after its credit note committed is not done again: the retry gets 409, one credit note', async () => {
    const before = await creditNotes();
    const server = await serveWith('idempotency.work-done:kill');
    try {
      expect(await postTo(server, 'crash-after-work')).toBe('died');
      await server.exited;
    } finally {
      server.child.kill('SIGKILL');
    }
    expect(await creditNotes()).toBe(before + 1);
    expect(await keyState('crash-after-work')).toBe('committed');

    const again = await retry('crash-after-work');
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict', details: { state: 'interrupted' } });
    expect(await creditNotes()).toBe(before + 1);
  });

  it('a retry while the first call still runs gets 409 idempotency_in_progress; once its process is gone, the retry goes through once', async () => {
    const before = await creditNotes();
    const server = await serveWith('idempotency.claimed:stall');
    try {
      const first = postTo(server, 'stalled-first');
      for (let attempt = 0; attempt < 100 && (await keyState('stalled-first')) !== 'pending'; attempt += 1)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(await keyState('stalled-first')).toBe('pending');
      const meanwhile = await postTo(server, 'stalled-first');
      expect(meanwhile).not.toBe('died');
      if (meanwhile !== 'died') {
        expect(meanwhile.status).toBe(409);
        expect(await meanwhile.json()).toMatchObject({ code: 'idempotency_in_progress' });
      }
      const elsewhere = await retry('stalled-first');
      expect(elsewhere.statusCode).toBe(409);
      expect(elsewhere.json()).toMatchObject({ code: 'idempotency_in_progress' });
      server.child.kill('SIGKILL');
      expect(await first).toBe('died');
      await server.exited;
    } finally {
      server.child.kill('SIGKILL');
    }
    expect(await creditNotes()).toBe(before);
    const after = await retry('stalled-first');
    expect(after.statusCode, after.body).toBe(201);
    expect(await creditNotes()).toBe(before + 1);
  });
});

describe('an invoice run killed with an Idempotency-Key (attack S7-8, decision 0522)', () => {
  const runBody = (period: string, issueDate: string) => ({
    period,
    issueDate,
    callsPurpose: 'call_billing',
  });
  async function invoicesOf(period: string): Promise<number> {
    const rows = await runAsOwner<{ count: string }>(
      database.ownerUrl,
      `select count(*) from invoices where tenant_id = $1 and kind = 'invoice' and period_start = $2`,
      [voxtra.tenantId, `${period}-01`],
    );
    return Number(rows.rows[0]?.count);
  }
  async function killedRun(hook: string, key: string, body: object): Promise<void> {
    const server = await serveWith(`${hook}:kill`);
    try {
      const answer = await fetch(`${server.url}/api/v1/invoice-runs`, {
        method: 'POST',
        headers: { ...headers(key), 'content-type': 'application/json' },
        body: JSON.stringify(body),
      }).catch(() => 'died' as const);
      expect(answer).toBe('died');
      await server.exited;
    } finally {
      server.child.kill('SIGKILL');
    }
  }
  const runAgain = (key: string, body: object) =>
    app.inject({ method: 'POST', url: '/api/v1/invoice-runs', headers: headers(key), payload: body });

  it('killed before its first invoice committed (only audit entries did): the retry with the same key bills the month, once, and a later retry replays its answer', async () => {
    // A month that has ended and was not billed yet: a customer with an August contract. The run
    // is dated today (real clock): an issue date after today is refused (decision 0541).
    const customer = await createCustomer(kernel, voxtra, { familyName: 'Augustijns' });
    await startContract(kernel, voxtra, customer, {
      startDate: '2026-08-01',
      endDate: '2026-08-31',
      lines: [{ productId: subscription }],
    });
    const body = runBody('2026-08', belgianDay(new Date()));
    await killedRun('invoice-run.before-commit', 'run-aug-killed', body);
    expect(await invoicesOf('2026-08')).toBe(0);
    expect(await keyState('run-aug-killed')).toBe('pending');

    const retried = await runAgain('run-aug-killed', body);
    expect(retried.statusCode, retried.body).toBe(200);
    expect(retried.json()).toMatchObject({ period: '2026-08', invoiced: 1 });
    expect(await invoicesOf('2026-08')).toBe(1);
    const replayed = await runAgain('run-aug-killed', body);
    expect(replayed.statusCode).toBe(200);
    expect(replayed.headers['idempotent-replayed']).toBe('true');
    expect(replayed.json()).toEqual(retried.json());
    expect(await invoicesOf('2026-08')).toBe(1);
  });

  it('killed after its invoices committed: the retry gets 409 interrupted saying changes were committed, and bills nobody twice', async () => {
    // A month that has ended and was not billed yet: a customer whose contract began in September.
    const customer = await createCustomer(kernel, voxtra, { familyName: 'Baert' });
    await startContract(kernel, voxtra, customer, {
      startDate: '2026-09-01',
      lines: [{ productId: subscription }],
    });
    const body = runBody('2026-09', belgianDay(new Date()));
    await killedRun('invoice-run.after-batch', 'run-sep-killed', body);
    expect(await invoicesOf('2026-09')).toBe(1);
    expect(await keyState('run-sep-killed')).toBe('committed');

    const retried = await runAgain('run-sep-killed', body);
    expect(retried.statusCode).toBe(409);
    expect(retried.json()).toMatchObject({ code: 'conflict', details: { state: 'interrupted' } });
    expect(retried.json<{ detail: string }>().detail).toContain('changes had been committed');
    expect(await invoicesOf('2026-09')).toBe(1);
  });
});

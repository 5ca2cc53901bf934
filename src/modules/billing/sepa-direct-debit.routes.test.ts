import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { validatePain008 } from '../../../test/xml.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { createCustomer, prepareTenant, startContract } from './billing.test-helpers.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let billing: StaffSession;
let support: StaffSession;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  billing = await loginAs(app, kernel, voxtra, 'billing');
  support = await loginAs(app, kernel, voxtra, 'support');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, session = billing) {
  return app.inject({
    method,
    url,
    headers: { cookie: session.cookie, 'x-csrf-token': session.csrfToken, 'x-kluis-purpose': 'invoicing' },
    ...(payload === undefined ? {} : { payload: payload as string }),
  });
}

describe('SEPA direct debit (issue 22)', () => {
  it('VX-3: the pain.008 collection file of a collection date carries each direct-debit invoice still due with its mandate and the debtor’s IBAN, and validates against the ISO 20022 schema (HTTP in, XSD-checked file out)', async () => {
    const catalogue = await prepareTenant(kernel, voxtra);
    const noCreditor = await call('GET', '/api/v1/direct-debits/pain008?collectionDate=2026-12-05');
    expect(noCreditor.statusCode).toBe(409);
    expect(
      (
        await call('PUT', '/api/v1/billing/settings', {
          payeeIban: 'BE68 5390 0754 7034',
          payeeBic: 'GKCCBEBB',
          sepaCreditorId: 'BE69ZZZ050D000000008',
        })
      ).statusCode,
    ).toBe(200);
    const customers: number[] = [];
    for (const name of ['Dewit', 'Everaert', 'Fierens']) {
      const subjectId = await createCustomer(kernel, voxtra, { familyName: name });
      customers.push(subjectId);
      await startContract(kernel, voxtra, subjectId, {
        startDate: '2026-10-01',
        lines: [{ productId: catalogue.subscription }],
      });
    }
    const [dewit, everaert] = customers as [number, number, number];
    const mandates = [
      {
        subjectId: dewit,
        iban: 'BE71 0961 2345 6769',
        directDebitMandate: 'VX-MANDATE-1',
        mandateSignedOn: '2026-09-20',
      },
      {
        subjectId: everaert,
        iban: 'BE62 5100 0754 7061',
        directDebitMandate: 'VX-MANDATE-2',
        mandateSignedOn: '2026-09-21',
      },
    ];
    for (const { subjectId, ...account } of mandates) {
      const added = await call('POST', `/api/v1/customers/${subjectId}/bank-accounts`, account);
      expect(added.statusCode, added.body).toBe(201);
    }
    expect(
      (await call('POST', '/api/v1/invoice-runs', { period: '2026-10', callsPurpose: 'call_billing' }))
        .statusCode,
    ).toBe(200);
    const invoices = (await call('GET', '/api/v1/invoices?period=2026-10')).json<{
      items: Array<{
        invoiceId: number;
        invoiceNumber: string;
        subjectId: number;
        dueDate: string;
        structuredCommunication: string;
      }>;
    }>().items;
    const ofDewit = invoices.find((item) => item.subjectId === dewit);
    const ofEveraert = invoices.find((item) => item.subjectId === everaert);
    if (!ofDewit || !ofEveraert) throw new Error('missing invoices');
    // Everaert's invoice is partly credited: only what is still due is collected.
    expect(
      (
        await call('POST', `/api/v1/invoices/${ofEveraert.invoiceId}/credit-notes`, {
          reasonCode: 'goodwill',
          amountExclVatCents: 500,
        })
      ).statusCode,
    ).toBe(201);

    // Before the due date nothing is due; a bad date is a 400.
    const early = await call('GET', '/api/v1/direct-debits/pain008?collectionDate=2026-11-06');
    expect(early.statusCode).toBe(409);
    expect((await call('GET', '/api/v1/direct-debits/pain008?collectionDate=05/12/2026')).statusCode).toBe(
      400,
    );
    // A role whose purposes do not cover bank accounts gets no file.
    const refused = await call(
      'GET',
      `/api/v1/direct-debits/pain008?collectionDate=${ofDewit.dueDate}`,
      undefined,
      support,
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'role_not_allowed' });
    // A purpose of the billing role without bank accounts (solvency): the gate's 403, not a 409
    // (issue 22 attack), and the refusal is on the audit trail.
    const deniedUnderSolvency = async (): Promise<number> =>
      Number(
        (
          await runAsOwner<{ count: string }>(
            database.ownerUrl,
            `select count(*) from audit_log where tenant_id = $1 and decision = 'denied' and purpose = 'solvency'`,
            [voxtra.tenantId],
          )
        ).rows[0]?.count,
      );
    const deniedBefore = await deniedUnderSolvency();
    const outOfPurpose = await app.inject({
      method: 'GET',
      url: `/api/v1/direct-debits/pain008?collectionDate=${ofDewit.dueDate}`,
      headers: { cookie: billing.cookie, 'x-csrf-token': billing.csrfToken, 'x-kluis-purpose': 'solvency' },
    });
    expect(outOfPurpose.statusCode).toBe(403);
    expect(outOfPurpose.json()).toMatchObject({ code: 'category_not_allowed' });
    expect(await deniedUnderSolvency()).toBe(deniedBefore + 1);

    const response = await call('GET', `/api/v1/direct-debits/pain008?collectionDate=${ofDewit.dueDate}`);
    expect(response.statusCode, response.body).toBe(200);
    expect(response.headers['content-type']).toContain('application/xml');
    const xml = response.body;
    expect(await validatePain008(xml)).toEqual({ valid: true, errors: [] });
    expect(xml).toContain('<NbOfTxs>2</NbOfTxs>');
    // 18.15 and 18.15 − 6.05 (5.00 + VAT) = 12.10
    expect(xml).toContain('<CtrlSum>30.25</CtrlSum>');
    expect(xml).toContain('<Id>BE69ZZZ050D000000008</Id>');
    expect(xml).toContain('<IBAN>BE68539007547034</IBAN>');
    expect(xml).toContain('<IBAN>BE71096123456769</IBAN>');
    expect(xml).toContain('<MndtId>VX-MANDATE-1</MndtId><DtOfSgntr>2026-09-20</DtOfSgntr>');
    expect(xml).toContain(`<EndToEndId>${ofEveraert.invoiceNumber}</EndToEndId>`);
    expect(xml).toContain('<InstdAmt Ccy="EUR">12.10</InstdAmt>');
    expect(xml).toContain(`<Ref>${ofDewit.structuredCommunication}</Ref>`);
    expect(xml).toContain('<Nm>An Dewit</Nm>');
    // The customer without a mandate pays by transfer: not in the file.
    expect(xml).not.toContain('Fierens');

    // A planted error is caught by the schema check.
    const broken = xml.replace('<SeqTp>RCUR</SeqTp>', '<SeqTp>ONCE</SeqTp>');
    expect((await validatePain008(broken)).valid).toBe(false);
  });
});

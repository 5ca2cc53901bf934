import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, requestAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createCustomer, prepareTenant, startContract } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { auditHead, auditSince, dossierCall, ownerRows } from './dossier.test-helpers.js';

// Review finding M3 (decision 0915): Voxtra keeps the technical dossier on its legitimate
// interest and says "You can object to this" (the seed: "just tell us and it is removed"). A
// fulfilled objection to the dossier's purpose erases the dossier at once, as a written
// termination does; the contract and the rest of the customer's file go on.

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let technician: StaffSession;
let officer: StaffSession;
let sales: StaffSession;
let subscription: number;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  subscription = (await prepareTenant(kernel, voxtra)).subscription;
  technician = await loginAs(app, kernel, voxtra, 'technician');
  officer = await loginAs(app, kernel, voxtra, 'privacy_officer');
  sales = await loginAs(app, kernel, voxtra, 'sales');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const dossierRows = async (subjectId: number) => {
  const counts: Record<string, number> = {};
  for (const table of ['dossier_assets', 'dossier_credentials', 'dossier_facts']) {
    const [row] = await ownerRows<{ n: number }>(
      database,
      `select count(*)::int as n from ${table} where subject_id = $1`,
      [subjectId],
    );
    counts[table] = row?.n ?? -1;
  }
  return counts;
};

describe('an objection to the technical dossier removes it (VX-4, VX-15)', () => {
  it('VX-4/VX-15: an objection to keeping the technical dossier, registered and fulfilled by staff over HTTP, erases the dossier at once (rows gone, key destroyed, certificate); the contract and the customer file stay', async () => {
    const subjectId = await createCustomer(kernel, voxtra, { familyName: 'Bezwaarden' });
    await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: subscription }],
    });
    const asTechnician = (method: 'GET' | 'POST', url: string, payload?: unknown) =>
      dossierCall(app, technician, method, url, payload);
    const asset = await asTechnician('POST', `/api/v1/customers/${subjectId}/dossier/assets`, {
      kind: 'printer',
      brand: 'Brother',
      model: 'MFC-L3770CDW',
      hostname: 'prt-bezwaarden',
    });
    expect(asset.statusCode, asset.body).toBe(201);
    const credential = await asTechnician('POST', `/api/v1/customers/${subjectId}/dossier/credentials`, {
      system: 'Microsoft 365 mailbox',
      username: 'info-bezwaarden',
      password: 'Pr1nter-Adm1n!zz',
    });
    expect(credential.statusCode, credential.body).toBe(201);
    expect(await dossierRows(subjectId)).toEqual({
      dossier_assets: 1,
      dossier_credentials: 1,
      dossier_facts: 0,
    });
    const start = await auditHead(database, voxtra);

    const call = requestAs(app, officer);
    const registered = await call('POST', '/api/v1/requests', {
      kind: 'objection',
      channel: 'letter',
      language: 'nl',
      subjectId,
      verificationMethod: 'id_card_seen',
      purposes: ['technical_dossier'],
    });
    expect(registered.statusCode, registered.body).toBe(201);
    const { requestId } = registered.json<{ requestId: string }>();
    // The customer has no e-mail address on file: the answer goes by post (decision 1250).
    const fulfilled = await call('POST', `/api/v1/requests/${requestId}/fulfil`, { letterPosted: true });
    expect(fulfilled.statusCode, fulfilled.body).toBe(200);
    expect(fulfilled.json()).toMatchObject({
      outcome: {
        purposes: ['technical_dossier'],
        notStopped: [],
        dossierErased: { assets: 1, credentials: 1, facts: 0, attachments: 0 },
      },
    });

    // At once, in the fulfilment: the rows gone, the dossier key destroyed, a certificate.
    expect(await dossierRows(subjectId)).toEqual({
      dossier_assets: 0,
      dossier_credentials: 0,
      dossier_facts: 0,
    });
    const key = await runAsOwner<{ wrapped: Buffer | null; destroyed: boolean }>(
      database.keystoreOwnerUrl,
      `select wrapped, destroyed_at is not null as destroyed from data_keys
        where tenant_id = $1 and owner_kind = 'dossier' and owner_ref = $2`,
      [voxtra.tenantId, String(subjectId)],
    );
    expect(key.rows).toEqual([{ wrapped: null, destroyed: true }]);
    const entries = (await auditSince(database, voxtra, start)).filter((entry) =>
      ['key.destroy', 'dossier.erase', 'request.fulfil'].includes(entry.action),
    );
    expect(entries.map((entry) => [entry.action, entry.reason])).toEqual(
      expect.arrayContaining([
        ['key.destroy', 'crypto_shredded'],
        [
          'dossier.erase',
          'certificate: technical dossier erased on objection; removed 1 assets, 1 credentials, 0 network facts and licences, 0 attachments; dossier key destroyed',
        ],
      ]),
    );
    const ledger = await runAsOwner<{ purpose: string; event: string }>(
      database.ownerUrl,
      'select purpose, event from consent_records where tenant_id = $1 and subject_id = $2',
      [voxtra.tenantId, subjectId],
    );
    expect(ledger.rows).toEqual([{ purpose: 'technical_dossier', event: 'objected' }]);

    // The dossier's purpose is stopped; the contract and the customer file go on.
    const dossier = await asTechnician('GET', `/api/v1/customers/${subjectId}/dossier`);
    expect(dossier.statusCode).toBe(403);
    expect(dossier.json<{ code: string }>().code).toBe('subject_objected');
    const file = await requestAs(app, sales, 'customer_administration')('GET', `/api/v1/people/${subjectId}`);
    expect(file.statusCode, file.body).toBe(200);
    const contracts = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from contracts where tenant_id = $1 and subject_id = $2 and end_date is null',
      [voxtra.tenantId, subjectId],
    );
    expect(contracts.rows).toEqual([{ n: 1 }]);
  });
});

import type { FastifyInstance } from 'fastify';
import { parse } from 'csv-parse/sync';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { dumpWholeDatabase } from '../../../test/dump.js';
import { createTestApp, loginAs, requestAs, totpCode, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createCustomer } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { auditHead, auditSince, dossierCall } from './dossier.test-helpers.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let technician: StaffSession;

const REASON = 'customer moves to another provider, ticket T-901';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  technician = await loginAs(app, kernel, voxtra, 'technician');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const csvHeaders = { 'content-type': 'text/csv' };
const importCsv = (subjectId: number, query: string, csv: string, session = technician) =>
  dossierCall(
    app,
    session,
    'POST',
    `/api/v1/customers/${subjectId}/dossier/import?${query}`,
    csv,
    csvHeaders,
  );
const fixture = (file: string) => readFile(path.join(ROOT, 'test/fixtures/dossier', file), 'utf8');
const exportCsv = (subjectId: number, body: Record<string, unknown>, session = technician) =>
  dossierCall(app, session, 'POST', `/api/v1/customers/${subjectId}/dossier/export`, body);

interface DossierBody {
  assets: Array<Record<string, unknown>>;
  credentials: Array<Record<string, unknown>>;
  facts: Array<Record<string, unknown>>;
}
const dossierOf = async (subjectId: number) =>
  (await dossierCall(app, technician, 'GET', `/api/v1/customers/${subjectId}/dossier`)).json<DossierBody>();

describe('import and export of assets, credentials and licences (issue 17)', () => {
  it('VX-4: assets and licences import from the ITFlow, Hudu and IT Glue export layouts, encrypted under the dossier key; a bad row imports nothing', async () => {
    const subjectId = await createCustomer(kernel, voxtra, { familyName: 'Inventaris' });
    for (const [query, file, count] of [
      ['format=itflow&kind=assets', 'itflow-assets.csv', 2],
      ['format=hudu&kind=assets', 'hudu-assets.csv', 1],
      ['format=itglue&kind=assets', 'itglue-configurations.csv', 2],
      ['format=itflow&kind=licences', 'itflow-licenses.csv', 1],
      ['format=hudu&kind=licences', 'hudu-licenses.csv', 1],
      ['format=itglue&kind=licences', 'itglue-licensing.csv', 1],
    ] as const) {
      const response = await importCsv(subjectId, query, await fixture(file));
      expect(response.statusCode, `${file}: ${response.body}`).toBe(200);
      expect(response.json()).toEqual({ imported: count });
    }
    const dossier = await dossierOf(subjectId);
    expect(
      dossier.assets.map((a) => [a.kind, a.brand, a.model, a.serial, a.hostname, a.warrantyUntil]),
    ).toEqual([
      ['printer', 'Brother', 'MFC-L3770CDW', 'E78123A45', 'PRN-ONTHAAL', '2027-03-01'],
      ['firewall', 'Fortinet', 'FortiGate 40F', 'FGT40FTK0001', 'FW-01', '2026-09-15'],
      ['network_printer', 'HP', 'LaserJet Pro M404dn', 'VNB3K12345', 'prn-bakkerij', '2025-05-10'],
      ['storage', 'Synology', 'DS920+', '2080PDN123456', 'nas-bakkerij', '2025-11-30'],
      ['workstation', 'Lenovo', 'ThinkCentre M70q', null, 'kassa-01', null],
    ]);
    expect(dossier.facts.map((f) => [f.kind, f.label, f.value, f.seats, f.expiresOn])).toEqual([
      ['licence', 'Microsoft 365 Business Standard', null, 5, '2027-01-31'],
      ['licence', 'ESET Endpoint Security', 'ABCD-EFGH-IJKL', 12, '2026-06-30'],
      ['licence', 'Veeam Backup Essentials', 'VEEAM-KEY-0001', 2, '2026-12-31'],
    ]);
    // Searchable by serial (blind index), unreadable in the database.
    const found = await dossierCall(app, technician, 'GET', '/api/v1/dossier/assets?serial=fgt40ftk0001');
    expect(found.json<{ items: unknown[] }>().items).toHaveLength(1);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    for (const plain of ['FortiGate', 'ThinkCentre', 'VEEAM-KEY-0001', 'Veeam'])
      expect(dump).not.toContain(plain);

    // A bad date on line 3: 400 naming the line, nothing of the file kept.
    const before = (await dossierOf(subjectId)).assets.length;
    const bad = await importCsv(
      subjectId,
      'format=itflow&kind=assets',
      'Name,Type,Make,Purchase Date\ngood-01,Laptop,Dell,2024-01-01\nbad-01,Laptop,Dell,01/02/2024\n',
    );
    expect(bad.statusCode).toBe(400);
    expect(bad.json<{ detail: string }>().detail).toContain('line 3');
    expect((await dossierOf(subjectId)).assets).toHaveLength(before);
    const noName = await importCsv(subjectId, 'format=hudu&kind=licences', 'seats,notes\n3,x\n');
    expect(noName.statusCode).toBe(400);
  });

  it('VX-4: the dossier exports back out as CSV in each tool’s layout and imports again; credentials leave without secrets unless the reveal rule is met (reason, fresh second factor), audited; other roles, tenants and VoiceKing get nothing', async () => {
    const source = await createCustomer(kernel, voxtra, { familyName: 'Vertrek' });
    await importCsv(source, 'format=itglue&kind=assets', await fixture('itglue-configurations.csv'));
    await importCsv(source, 'format=hudu&kind=licences', await fixture('hudu-licenses.csv'));
    await importCsv(source, 'format=itflow', await fixture('itflow-credentials.csv'));
    const start = await auditHead(database, voxtra);

    // Round trip through each tool's layout into another customer.
    for (const format of ['itflow', 'hudu', 'itglue']) {
      const target = await createCustomer(kernel, voxtra, { familyName: `Aankomst${format}` });
      for (const kind of ['assets', 'licences', 'credentials']) {
        const exported = await exportCsv(source, { kind, format });
        expect(exported.statusCode, exported.body).toBe(200);
        expect(exported.headers['content-type']).toContain('text/csv');
        const again = await importCsv(target, `format=${format}&kind=${kind}`, exported.body);
        expect(again.statusCode, `${format} ${kind}: ${again.body}`).toBe(200);
      }
      const strip = (items: Array<Record<string, unknown>>, id: string) =>
        items.map(({ [id]: _id, subjectId: _s, createdAt: _c, updatedAt: _u, ...rest }) => rest);
      const [from, to] = [await dossierOf(source), await dossierOf(target)];
      expect(strip(to.assets, 'assetId'), format).toEqual(strip(from.assets, 'assetId'));
      expect(strip(to.facts, 'factId'), format).toEqual(strip(from.facts, 'factId'));
      // Without secrets, the passwords stay behind.
      expect(
        to.credentials.map((c) => [c.system, c.password]),
        format,
      ).toEqual(from.credentials.map((c) => [c.system, null]));
    }

    // With secrets: only under the reveal rule.
    const noReason = await exportCsv(source, { kind: 'credentials', format: 'itflow', withSecrets: true });
    expect(noReason.statusCode).toBe(400);
    const withSecrets = await exportCsv(source, {
      kind: 'credentials',
      format: 'itflow',
      withSecrets: true,
      reason: REASON,
    });
    expect(withSecrets.statusCode, withSecrets.body).toBe(200);
    const rows: Array<Record<string, string>> = parse(withSecrets.body, { columns: true });
    expect(rows.map((row) => [row.Name, row.Password, row.TOTP])).toEqual([
      ['Microsoft 365 admin', 'Itfl0w-Imp0rt!aa', 'JBSWY3DPEHPK3PXP'],
      ['Router', 'Itfl0w-R0uter!bb', ''],
    ]);
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    const refused = await exportCsv(
      source,
      { kind: 'credentials', format: 'itflow', withSecrets: true, reason: REASON },
      sales,
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.body).not.toContain('Itfl0w');
    clock.advance(6 * 60 * 1000);
    const stale = await exportCsv(source, {
      kind: 'credentials',
      format: 'itflow',
      withSecrets: true,
      reason: REASON,
    });
    expect(stale.json()).toMatchObject({ code: 'step_up_required' });
    const stepUp = await dossierCall(app, technician, 'POST', '/api/v1/auth/mfa/step-up', {
      code: await totpCode(kernel, technician.totpSecret ?? ''),
    });
    expect(stepUp.statusCode, stepUp.body).toBe(200);

    // Another tenant's technician, and VoiceKing: nothing.
    const other = await createPolicyTenant(kernel, 'voxtra');
    const foreign = await loginAs(app, kernel, other, 'technician');
    const cross = await exportCsv(source, { kind: 'assets', format: 'hudu' }, foreign);
    expect(cross.statusCode).toBe(404);
    const voiceking = await createPolicyTenant(kernel, 'voiceking');
    const vkTechnician = await loginAs(app, kernel, voiceking, 'technician');
    const vk = await requestAs(app, vkTechnician)('POST', `/api/v1/customers/${source}/dossier/export`, {
      kind: 'assets',
      format: 'hudu',
    });
    expect(vk.json()).toMatchObject({ code: 'purpose_not_allowed' });

    const entries = (await auditSince(database, voxtra, start)).filter((e) => e.action === 'dossier.export');
    expect(
      entries.filter((e) => e.reason?.includes('with secrets')).map((e) => [e.decision, e.reason]),
    ).toEqual([['allowed', `credentials exported as itflow CSV (2) with secrets: ${REASON}`]]);
    expect(entries.filter((e) => e.decision === 'denied').map((e) => e.reason)).toEqual([
      'reason_missing',
      'second_factor_stale',
    ]);
    expect(entries.filter((e) => e.decision === 'allowed')).toHaveLength(10);
  });
  it('VX-4: the attachments of a dossier export as a CSV list (name, type, size, secret, note), never their content, audited; the staff and portal dossier list them too', async () => {
    const customer = await createCustomer(kernel, voxtra);
    const add = async (body: Record<string, unknown>) => {
      const response = await dossierCall(
        app,
        technician,
        'POST',
        `/api/v1/customers/${customer}/dossier/attachments`,
        body,
      );
      expect(response.statusCode, response.body).toBe(201);
    };
    await add({
      fileName: 'config-backup.txt',
      contentType: 'text/plain',
      content: Buffer.from('hostname fw-01\n').toString('base64'),
      note: '=HYPERLINK("x")',
    });
    await add({
      fileName: 'vpn-sleutel.txt',
      contentType: 'text/plain',
      content: Buffer.from('psk Voxtra-VPN-secret\n').toString('base64'),
      secret: true,
    });
    const at = clock.now().toISOString();
    const start = await auditHead(database, voxtra);
    const exported = await exportCsv(customer, { kind: 'attachments', format: 'itflow' });
    expect(exported.statusCode, exported.body).toBe(200);
    expect(exported.headers['content-disposition']).toContain('-attachments-itflow.csv');
    const rows: string[][] = parse(exported.body);
    expect(rows).toEqual([
      ['File Name', 'Content Type', 'Size (bytes)', 'Secret', 'Note', 'Created'],
      ['config-backup.txt', 'text/plain', '15', 'no', `'=HYPERLINK("x")`, at],
      ['vpn-sleutel.txt', 'text/plain', '22', 'yes', '', at],
    ]);
    expect(exported.body).not.toContain('Voxtra-VPN-secret');
    expect(exported.body).not.toContain('fw-01');
    const entries = (await auditSince(database, voxtra, start)).filter((e) => e.action === 'dossier.export');
    expect(entries.map((e) => [e.decision, e.reason])).toEqual([
      ['allowed', 'attachments exported as itflow CSV (2)'],
    ]);
    // The dossier as staff see it lists them too (the portal page and access use the same presenter).
    const dossier = (
      await dossierCall(app, technician, 'GET', `/api/v1/customers/${customer}/dossier`)
    ).json<{
      attachments: Array<{ fileName: string; secret: boolean; sizeBytes: number }>;
    }>();
    expect(dossier.attachments.map((item) => [item.fileName, item.secret, item.sizeBytes])).toEqual([
      ['config-backup.txt', false, 15],
      ['vpn-sleutel.txt', true, 22],
    ]);
    // Another role gets nothing.
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    expect((await exportCsv(customer, { kind: 'attachments', format: 'hudu' }, sales)).statusCode).toBe(403);
  });
});

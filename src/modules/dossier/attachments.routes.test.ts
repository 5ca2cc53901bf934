import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../../test/database.js';
import { dumpWholeDatabase } from '../../../test/dump.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import { createDomainEventSubscribers } from '../../jobs/domain-events.job.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createCustomer, prepareTenant, startContract } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { auditHead, auditSince, dossierCall, ownerRows } from './dossier.test-helpers.js';

const clock = fixedClock(new Date('2026-11-05T10:00:00Z'));
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let voiceking: Tenant;
let technician: StaffSession;

const CONFIG = 'hostname fw-01\nset admin-password Sup3r-Secret-Cfg!\n';
const PDF = Buffer.concat([Buffer.from('%PDF-1.4\n'), Buffer.from('netwerkplan kelder\n%%EOF\n')]);
const REASON = 'restore the firewall config, ticket T-555';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel, { events: createDomainEventSubscribers(kernel, testLogger) });
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  technician = await loginAs(app, kernel, voxtra, 'technician');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const upload = (subjectId: number, body: Record<string, unknown>, session = technician) =>
  dossierCall(app, session, 'POST', `/api/v1/customers/${subjectId}/dossier/attachments`, body);

async function customerWithAttachments(familyName: string) {
  const subjectId = await createCustomer(kernel, voxtra, { familyName });
  const plan = await upload(subjectId, {
    fileName: 'netwerkplan.pdf',
    contentType: 'application/pdf',
    content: PDF.toString('base64'),
    note: 'kelder en eerste verdieping',
  });
  expect(plan.statusCode, plan.body).toBe(201);
  const config = await upload(subjectId, {
    fileName: 'fw-01 backup.txt',
    contentType: 'text/plain',
    content: Buffer.from(CONFIG).toString('base64'),
    secret: true,
  });
  expect(config.statusCode, config.body).toBe(201);
  return {
    subjectId,
    planId: plan.json<{ attachmentId: number }>().attachmentId,
    configId: config.json<{ attachmentId: number }>().attachmentId,
  };
}

describe('dossier attachments (issue 17)', () => {
  it('VX-4: a technician attaches small files over HTTP: size limit and content-type allow-list, content under the dossier key; a plain one downloads, a secret one only under the reveal rule; audited', async () => {
    const start = await auditHead(database, voxtra);
    const { subjectId, planId, configId } = await customerWithAttachments('Bijlage');
    const list = await dossierCall(
      app,
      technician,
      'GET',
      `/api/v1/customers/${subjectId}/dossier/attachments`,
    );
    expect(list.json<{ items: unknown[] }>().items).toEqual([
      expect.objectContaining({
        attachmentId: planId,
        fileName: 'netwerkplan.pdf',
        sizeBytes: PDF.length,
        secret: false,
      }),
      expect.objectContaining({
        attachmentId: configId,
        fileName: 'fw-01 backup.txt',
        contentType: 'text/plain',
        secret: true,
      }),
    ]);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    for (const plain of ['Sup3r-Secret-Cfg', 'netwerkplan', 'kelder']) expect(dump).not.toContain(plain);

    const pdf = await dossierCall(app, technician, 'GET', `/api/v1/dossier/attachments/${planId}/content`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.headers['content-disposition']).toContain('attachment; filename="netwerkplan.pdf"');
    expect(pdf.headers['x-content-type-options']).toBe('nosniff');
    expect(pdf.rawPayload.equals(PDF)).toBe(true);
    // The secret one: not by download, only with a reason and a fresh second factor.
    const refused = await dossierCall(
      app,
      technician,
      'GET',
      `/api/v1/dossier/attachments/${configId}/content`,
    );
    expect(refused.statusCode).toBe(403);
    expect(refused.body).not.toContain('Sup3r');
    const noReason = await dossierCall(
      app,
      technician,
      'POST',
      `/api/v1/dossier/attachments/${configId}/reveal`,
      {},
    );
    expect(noReason.statusCode).toBe(400);
    const revealed = await dossierCall(
      app,
      technician,
      'POST',
      `/api/v1/dossier/attachments/${configId}/reveal`,
      {
        reason: REASON,
      },
    );
    expect(revealed.statusCode, revealed.body).toBe(200);
    expect(revealed.body).toBe(CONFIG);

    // Too large, a type not allowed, a PNG that is not one: 400, nothing stored.
    const before = await ownerRows<{ n: number }>(
      database,
      'select count(*)::int as n from dossier_attachments',
    );
    const big = Buffer.alloc(1024 * 1024 + 1, 0x61);
    for (const bad of [
      { fileName: 'big.txt', contentType: 'text/plain', content: big.toString('base64') },
      { fileName: 'run.exe', contentType: 'application/x-msdownload', content: 'TVqQAAMAAAAEAAAA' },
      {
        fileName: 'fake.png',
        contentType: 'image/png',
        content: Buffer.from('not a png').toString('base64'),
      },
      { fileName: '../etc/passwd', contentType: 'text/plain', content: 'eA==' },
      // Shown as "üexe.txt", saved as "…txt.exe" (attack finding A15).
      { fileName: 'ü\u202etxt.exe', contentType: 'text/plain', content: 'eA==' },
      { fileName: 'plan\r\n.txt', contentType: 'text/plain', content: 'eA==' },
    ]) {
      const response = await upload(subjectId, bad);
      expect(response.statusCode, bad.fileName).toBe(400);
    }
    expect(await ownerRows(database, 'select count(*)::int as n from dossier_attachments')).toEqual(before);

    // Delete, twice.
    expect(
      (await dossierCall(app, technician, 'DELETE', `/api/v1/dossier/attachments/${planId}`)).statusCode,
    ).toBe(204);
    expect(
      (await dossierCall(app, technician, 'DELETE', `/api/v1/dossier/attachments/${planId}`)).statusCode,
    ).toBe(404);

    const entries = (await auditSince(database, voxtra, start)).filter((e) =>
      e.action.startsWith('dossier.'),
    );
    expect(entries.map((e) => [e.action, e.decision, e.reason])).toEqual([
      ['dossier.attachment.add', 'allowed', `application/pdf attachment added (${PDF.length} bytes)`],
      ['dossier.attachment.add', 'allowed', `secret text/plain attachment added (${CONFIG.length} bytes)`],
      ['dossier.attachment.download', 'allowed', 'attachment downloaded'],
      ['dossier.reveal', 'denied', 'reason_missing'],
      ['dossier.reveal', 'allowed', `secret attachment revealed: ${REASON}`],
      ['dossier.attachment.delete', 'allowed', 'attachment deleted'],
    ]);
  });

  it('VX-4: every role of both seed policies and another tenant against the attachment routes: only the Voxtra technician may', async () => {
    const { subjectId, planId, configId } = await customerWithAttachments('Rollen');
    const other = await createPolicyTenant(kernel, 'voxtra');
    const foreign = await loginAs(app, kernel, other, 'technician');
    for (const [method, url] of [
      ['GET', `/api/v1/dossier/attachments/${planId}/content`],
      ['POST', `/api/v1/dossier/attachments/${configId}/reveal`],
      ['DELETE', `/api/v1/dossier/attachments/${planId}`],
      ['GET', `/api/v1/customers/${subjectId}/dossier/attachments`],
    ] as const) {
      expect(
        (await dossierCall(app, foreign, method, url, method === 'POST' ? { reason: REASON } : undefined))
          .statusCode,
      ).toBe(404);
    }
    for (const tenant of [voxtra, voiceking]) {
      const { policy } = await kernel.policies.current(tenant.tenantId);
      for (const role of Object.keys(policy.roles)) {
        if (tenant === voxtra && role === 'technician') continue;
        const session = await loginAs(app, kernel, tenant, role);
        const purpose =
          tenant === voxtra
            ? 'technical_dossier'
            : (Object.entries(policy.purposes).find(([, p]) => p.roles.includes(role))?.[0] ?? '');
        const headers = { 'x-kluis-purpose': purpose };
        for (const [method, url, body] of [
          ['GET', `/api/v1/dossier/attachments/${planId}/content`, undefined],
          ['POST', `/api/v1/dossier/attachments/${configId}/reveal`, { reason: REASON }],
          ['DELETE', `/api/v1/dossier/attachments/${planId}`, undefined],
          [
            'POST',
            `/api/v1/customers/${subjectId}/dossier/attachments`,
            { fileName: 'x.txt', contentType: 'text/plain', content: 'eA==' },
          ],
        ] as const) {
          const answer = await dossierCall(app, session, method, url, body, headers);
          expect(answer.statusCode, `${tenant.slug} ${role} ${method} ${url}`).toBe(
            tenant === voxtra ? 403 : 403,
          );
          expect(answer.body).not.toContain('Sup3r');
        }
      }
    }
    expect(
      await ownerRows(database, 'select count(*)::int as n from dossier_attachments where subject_id = $1', [
        subjectId,
      ]),
    ).toEqual([{ n: 2 }]);
  });

  it('VX-7: a written termination erases the attachments, secret or not, with the dossier key', async () => {
    const catalogue = await prepareTenant(kernel, voxtra);
    const { subjectId } = await customerWithAttachments('Opzeg');
    const contractId = await startContract(kernel, voxtra, subjectId, {
      startDate: '2026-10-01',
      lines: [{ productId: catalogue.subscription }],
    });
    const sales = await loginAs(app, kernel, voxtra, 'sales');
    const terminated = await dossierCall(
      app,
      sales,
      'POST',
      `/api/v1/contracts/${contractId}/terminate`,
      { terminatedOn: '2026-11-30', channel: 'written', reasonCode: 'moved_abroad' },
      { 'x-kluis-purpose': 'customer_administration' },
    );
    expect(terminated.statusCode, terminated.body).toBe(200);
    expect(
      await ownerRows(database, 'select count(*)::int as n from dossier_attachments where subject_id = $1', [
        subjectId,
      ]),
    ).toEqual([{ n: 0 }]);
    const key = await runAsOwner<{ live: boolean }>(
      database.keystoreOwnerUrl,
      "select wrapped is not null as live from data_keys where tenant_id = $1 and owner_kind = 'dossier' and owner_ref = $2",
      [voxtra.tenantId, String(subjectId)],
    );
    expect(key.rows).toEqual([{ live: false }]);
    const certificate = (await auditSince(database, voxtra, 0))
      .filter((e) => e.action === 'dossier.erase')
      .at(-1);
    expect(certificate?.reason).toContain('2 attachments');
  });
});

import { PassThrough } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { unzip } from '../../../test/zip.js';
import { DATA_MAP } from '../../modules/data-map.js';
import type { Tenant } from '../../modules/tenants/index.js';
import { findDataMapProblems } from '../datamap/datamap.js';
import type { Kernel } from '../kernel.js';
import { buildAccessReport, renderAccessReportHtml, streamPortabilityZip } from './index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

describe('security secrets stay out of access reports and exports (GDPR Art. 15(4))', () => {
  it("a staff member's report and export hold no password hash, TOTP secret or recovery codes, and name what was left out", async () => {
    // A privacy officer logs in through the API, enrolling a second factor (recovery codes too).
    const staff = await loginAs(app, kernel, tenant, 'privacy_officer');
    const officer = await loginAs(app, kernel, tenant, 'privacy_officer');
    const row = await runAsOwner<{ subject_id: number; password_hash: string; recovery: number }>(
      database.ownerUrl,
      `select subject_id, password_hash, cardinality(recovery_code_hashes) as recovery
         from staff_users where staff_id = $1`,
      [staff.staffId],
    );
    const { subject_id: subjectId, password_hash: passwordHash } = row.rows[0] ?? {
      subject_id: 0,
      password_hash: '',
    };
    expect(row.rows[0]?.recovery).toBeGreaterThan(0);
    const options = {
      tenantId: tenant.tenantId,
      actor: { kind: 'staff', staffId: officer.staffId, role: 'privacy_officer' } as const,
      purpose: 'rights_requests',
      subjectId,
      language: 'en' as const,
    };

    const report = await buildAccessReport(kernel, DATA_MAP, options);
    const text = JSON.stringify(report) + renderAccessReportHtml(report);
    expect(text).not.toContain(passwordHash);
    expect(text).not.toContain(staff.totpSecret ?? 'no secret');
    expect(text).not.toContain('$argon2');
    const staffRows = report.data.find((table) => table.table === 'staff_users')?.rows ?? [];
    expect(staffRows.map((cells) => Object.keys(cells).sort())).toEqual([['display_name', 'email']]);
    expect(report.withheld.items.map((item) => `${item.table}.${item.column}`)).toEqual([
      'staff_users.password_hash',
      'staff_users.totp_secret',
      'staff_users.recovery_code_hashes',
    ]);
    expect(report.withheld.note).toContain('Art. 15(4)');
    expect(renderAccessReportHtml(report)).toContain('What we leave out');

    const output = new PassThrough();
    const chunks: Buffer[] = [];
    output.on('data', (chunk: Buffer) => chunks.push(chunk));
    await streamPortabilityZip(kernel, DATA_MAP, options, output);
    const files = await unzip(Buffer.concat(chunks));
    for (const [, content] of files) {
      expect(content).not.toContain(passwordHash);
      expect(content).not.toContain(staff.totpSecret ?? 'no secret');
    }
    expect(files.get('staff_users.csv')?.split('\r\n')[0]).toBe('email,display_name');
    const manifest = JSON.parse(files.get('manifest.json') ?? '{}') as {
      withheld: { items: Array<{ column: string }> };
    };
    expect(manifest.withheld.items.map((item) => item.column)).toContain('totp_secret');
  });

  it('the data-map check refuses a credential-like column that is not flagged as a security secret', () => {
    const problems = findDataMapProblems({
      table: 'example',
      module: 'example',
      subjectColumn: 'subject_id',
      erasure: { kind: 'delete_rows' },
      personal: { api_token_hash: { category: 'user.authorization.credentials' } },
      notPersonal: { subject_id: 'subject' },
    });
    expect(problems).toEqual([
      'example.api_token_hash looks like a security secret but is not flagged as one',
    ]);
  });
});

import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { startSmtpSink, type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voxtra: Tenant;
let technician: StaffSession;

const PASSWORD = 'Scanner-Adm1n!qq';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  smtp = await startSmtpSink();
  app = await createTestApp(kernel, {
    mailer: smtp.mailer,
    publicUrl: 'https://portal.voxtra.example',
    answerQuanta: { form: 0, link: 0, login: 0 },
  });
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  technician = await loginAs(app, kernel, voxtra, 'technician');
});
afterAll(async () => {
  await app.close();
  await smtp.close();
  await database.close();
});

/** The customer logs in to the privacy portal with the link mailed to the address on file. */
async function portalLogin(email: string): Promise<{ cookie: string; csrf: string }> {
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${voxtra.slug}/account/link`,
    payload: { email },
  });
  expect(asked.statusCode).toBe(202);
  const text = (await smtp.waitFor(email, 1)).text ?? '';
  const url = (/(https:\/\/portal\.voxtra\.example\S+)/.exec(text)?.[1] ?? '').replace(
    'https://portal.voxtra.example',
    '',
  );
  const login = await app.inject({ method: 'GET', url });
  expect(login.statusCode).toBe(200);
  return {
    cookie: String(login.headers['set-cookie']).split(';')[0] ?? '',
    csrf: /name="csrf-token" content="([^"]+)"/.exec(login.body)?.[1] ?? '',
  };
}

describe("the customer's view of their technical dossier", () => {
  it('VX-11: the customer sees their technical dossier in the privacy portal with the secrets masked; VK-23: erasing from the account destroys the dossier key too', async () => {
    const person = await createPerson(
      kernel,
      {
        tenantId: voxtra.tenantId,
        actor: { kind: 'system', job: 'test' },
        purpose: 'customer_administration',
      },
      {
        subjectType: 'customer',
        familyName: 'Vermeulen',
        givenName: 'Sofie',
        email: 'sofie.vermeulen@mail.example',
      },
    );
    const headers = {
      cookie: technician.cookie,
      'x-csrf-token': technician.csrfToken,
      'x-kluis-purpose': 'technical_dossier',
    };
    const asset = await app.inject({
      method: 'POST',
      url: `/api/v1/customers/${person.subjectId}/dossier/assets`,
      headers,
      payload: { kind: 'scanner', brand: 'Fujitsu', model: 'fi-8170', hostname: 'scan-vermeulen' },
    });
    expect(asset.statusCode, asset.body).toBe(201);
    const credential = await app.inject({
      method: 'POST',
      url: `/api/v1/customers/${person.subjectId}/dossier/credentials`,
      headers,
      payload: { system: 'Scanner web admin', username: 'admin', password: PASSWORD },
    });
    expect(credential.statusCode, credential.body).toBe(201);

    const session = await portalLogin('sofie.vermeulen@mail.example');
    const data = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/account/data`,
      headers: { cookie: session.cookie },
    });
    expect(data.statusCode).toBe(200);
    for (const shown of ['Fujitsu', 'fi-8170', 'scan-vermeulen', 'Scanner web admin', '********'])
      expect(data.body).toContain(shown);
    expect(data.body).not.toContain(PASSWORD);

    const erased = await app.inject({
      method: 'POST',
      url: `/t/${voxtra.slug}/account/requests`,
      headers: { cookie: session.cookie, 'x-csrf-token': session.csrf },
      payload: { kind: 'erasure' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    const rows = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      'select count(*)::int as n from dossier_credentials where subject_id = $1',
      [person.subjectId],
    );
    expect(rows.rows).toEqual([{ n: 0 }]);
    const keys = await runAsOwner<{ owner_kind: string; live: boolean }>(
      database.keystoreOwnerUrl,
      "select owner_kind, wrapped is not null as live from data_keys where tenant_id = $1 and owner_ref = $2 and owner_kind in ('subject', 'dossier') order by owner_kind",
      [voxtra.tenantId, String(person.subjectId)],
    );
    expect(keys.rows).toEqual([
      { owner_kind: 'dossier', live: false },
      { owner_kind: 'subject', live: false },
    ]);
  });
});

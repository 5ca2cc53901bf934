import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import { startMailingTestApp, type MailingTestApp } from '../../../test/mailing-app.js';
import { type SmtpSink } from '../../../test/smtp.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';

let testApp: MailingTestApp;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let smtp: SmtpSink;
let voxtra: Tenant;
let technician: StaffSession;

const PASSWORD = 'Scanner-Adm1n!qq';

beforeAll(async () => {
  testApp = await startMailingTestApp({ publicUrl: 'https://portal.voxtra.example' });
  ({ database, kernel, smtp, app, voxtra } = testApp);
  technician = await loginAs(app, kernel, voxtra, 'technician');
});
afterAll(async () => {
  await testApp.close();
});

/** The customer logs in to the privacy portal with the link mailed to the address on file. */
async function portalLogin(
  email: string,
  tenant: Tenant = voxtra,
): Promise<{ cookie: string; csrf: string }> {
  const asked = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/link`,
    payload: { email },
  });
  expect(asked.statusCode).toBe(202);
  const text = (await smtp.waitFor(email, 1)).text ?? '';
  const url = (/(https:\/\/portal\.voxtra\.example\S+)/.exec(text)?.[1] ?? '').replace(
    'https://portal.voxtra.example',
    '',
  );
  // The link's token, handed in the way the portal page does (POST …/account/login).
  const token = new URL(url, 'https://portal.voxtra.example').searchParams.get('token') ?? '';
  const login = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/account/login`,
    payload: { token },
  });
  expect(login.statusCode, login.body).toBe(200);
  return {
    cookie: String(login.headers['set-cookie']).split(';')[0] ?? '',
    csrf: login.json<{ csrfToken: string }>().csrfToken,
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

/** A customer of a tenant with one credential in their dossier (made by the technician over HTTP). */
async function customerWithCredential(tenant: Tenant, familyName: string, password: string) {
  const email = `${familyName.toLowerCase()}@mail.example`;
  const person = await createPerson(
    kernel,
    {
      tenantId: tenant.tenantId,
      actor: { kind: 'system', job: 'test' },
      purpose: tenant === voxtra ? 'customer_administration' : 'order_processing',
    },
    { subjectType: 'customer', familyName, givenName: 'Jan', email },
  );
  if (tenant !== voxtra) return { subjectId: person.subjectId, email, credentialId: 0 };
  const credential = await app.inject({
    method: 'POST',
    url: `/api/v1/customers/${person.subjectId}/dossier/credentials`,
    headers: {
      cookie: technician.cookie,
      'x-csrf-token': technician.csrfToken,
      'x-kluis-purpose': 'technical_dossier',
    },
    payload: { system: `Wi-Fi ${familyName}`, password, totpSeed: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP' },
  });
  expect(credential.statusCode, credential.body).toBe(201);
  return {
    subjectId: person.subjectId,
    email,
    credentialId: credential.json<{ credentialId: number }>().credentialId,
  };
}

describe("the customer's own reveal (issue 17)", () => {
  it("VX-11: a customer signed in to the privacy portal sees their dossier masked and reveals their own secrets, audited in their name; another customer's credential, a missing login or CSRF token, a staff session and VoiceKing get nothing", async () => {
    const mine = await customerWithCredential(voxtra, 'Lambrecht', 'Own-W1fi!secret');
    const theirs = await customerWithCredential(voxtra, 'Vervoort', 'Their-W1fi!secret');
    const session = await portalLogin(mine.email);
    const base = `/t/${voxtra.slug}/account/dossier`;
    const reveal = (credentialId: number, headers: Record<string, string>, field = 'password') =>
      app.inject({
        method: 'POST',
        url: `${base}/credentials/${credentialId}/reveal`,
        headers,
        payload: { field },
      });
    const withCsrf = { cookie: session.cookie, 'x-csrf-token': session.csrf };

    const masked = await app.inject({ method: 'GET', url: base, headers: { cookie: session.cookie } });
    expect(masked.statusCode, masked.body).toBe(200);
    expect(masked.headers['cache-control']).toBe('no-store');
    expect(masked.json()).toMatchObject({
      subjectId: mine.subjectId,
      credentials: [
        { credentialId: mine.credentialId, system: 'Wi-Fi Lambrecht', password: '********', hasTotp: true },
      ],
    });
    expect(masked.body).not.toContain('Own-W1fi');

    const start = (
      await runAsOwner<{ seq: number }>(
        database.ownerUrl,
        'select coalesce(max(seq), 0)::int as seq from audit_log where tenant_id = $1',
        [voxtra.tenantId],
      )
    ).rows[0]?.seq;
    const revealed = await reveal(mine.credentialId, withCsrf);
    expect(revealed.statusCode, revealed.body).toBe(200);
    expect(revealed.headers['cache-control']).toBe('no-store');
    expect(revealed.json()).toEqual({ field: 'password', value: 'Own-W1fi!secret' });
    // Twice: the same answer, audited again.
    expect((await reveal(mine.credentialId, withCsrf, 'totpSeed')).json()).toEqual({
      field: 'totpSeed',
      value: 'JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP',
    });

    // Another customer's credential: not found, like an unknown id; nothing of it leaves.
    const foreign = await reveal(theirs.credentialId, withCsrf);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.body).not.toContain('Their-W1fi');
    // No CSRF token, no login, a staff session: refused.
    expect((await reveal(mine.credentialId, { cookie: session.cookie })).statusCode).toBe(403);
    expect((await reveal(mine.credentialId, {})).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: base })).statusCode).toBe(401);
    const staff = { cookie: technician.cookie, 'x-csrf-token': technician.csrfToken };
    expect((await reveal(mine.credentialId, staff)).statusCode).toBe(401);

    const entries = await runAsOwner<{ action: string; actor_kind: string; role: string; reason: string }>(
      database.ownerUrl,
      "select action, actor_kind, role, reason from audit_log where tenant_id = $1 and seq > $2 and action = 'dossier.reveal' order by seq",
      [voxtra.tenantId, start],
    );
    expect(entries.rows).toEqual([
      {
        action: 'dossier.reveal',
        actor_kind: 'subject',
        role: 'data_subject',
        reason: 'password revealed by the customer in the privacy portal',
      },
      {
        action: 'dossier.reveal',
        actor_kind: 'subject',
        role: 'data_subject',
        reason: 'TOTP seed revealed by the customer in the privacy portal',
      },
    ]);

    // VoiceKing keeps no technical dossier: its customer is told so.
    const voiceking = await createPolicyTenant(kernel, 'voiceking');
    const vkCustomer = await customerWithCredential(voiceking, 'Callewaert', 'unused');
    const vkSession = await portalLogin(vkCustomer.email, voiceking);
    const vk = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/account/dossier`,
      headers: { cookie: vkSession.cookie },
    });
    expect(vk.statusCode).toBe(403);
    expect(vk.json()).toMatchObject({ code: 'purpose_not_allowed' });
  });
});

import type { FastifyInstance } from 'fastify';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer } from '../../../test/cli.js';
import { createTestDatabase, type TestDatabase } from '../../../test/database.js';
import { dumpWholeDatabase } from '../../../test/dump.js';
import { createTestApp, loginAs, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import { systemClock } from '../../platform/clock.js';
import { createCustomer } from '../billing/billing.test-helpers.js';
import type { Tenant } from '../tenants/index.js';
import { auditHead, auditSince, dossierCall, ownerRows, type Method } from './dossier.test-helpers.js';

const masterKey = randomBytes(32);
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voxtra: Tenant;
let voiceking: Tenant;
let technician: StaffSession;

const PASSWORD = 'Old-R0uter!pass';
const NEW_PASSWORD = 'N3w-R0uter!pass';

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, systemClock, masterKey);
  app = await createTestApp(kernel);
  voxtra = await createPolicyTenant(kernel, 'voxtra');
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  technician = await loginAs(app, kernel, voxtra, 'technician');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const call = (session: StaffSession, method: Method, url: string, payload?: unknown) =>
  dossierCall(app, session, method, url, payload);

/** One item of each kind for a new customer, made over HTTP by the technician. */
async function customerWithItems(familyName: string) {
  const subjectId = await createCustomer(kernel, voxtra, { familyName });
  const post = async (segment: string, body: Record<string, unknown>, idName: string) => {
    const response = await call(
      technician,
      'POST',
      `/api/v1/customers/${subjectId}/dossier/${segment}`,
      body,
    );
    expect(response.statusCode, response.body).toBe(201);
    return response.json<Record<string, number>>()[idName] ?? 0;
  };
  return {
    subjectId,
    assetId: await post(
      'assets',
      { kind: 'router', brand: 'Draytek', hostname: 'gw-' + familyName },
      'assetId',
    ),
    credentialId: await post(
      'credentials',
      { system: 'Router admin', username: 'admin', password: PASSWORD },
      'credentialId',
    ),
    factId: await post('facts', { kind: 'licence', label: 'Antivirus', seats: 3 }, 'factId'),
  };
}

const itemUrls = (items: { assetId: number; credentialId: number; factId: number }) => ({
  asset: `/api/v1/dossier/assets/${items.assetId}`,
  credential: `/api/v1/dossier/credentials/${items.credentialId}`,
  fact: `/api/v1/dossier/facts/${items.factId}`,
});

async function passwordCiphertext(credentialId: number): Promise<string> {
  const [row] = await ownerRows<{ enc: Buffer }>(
    database,
    'select password_enc as enc from dossier_credentials where credential_id = $1',
    [credentialId],
  );
  return row?.enc.toString('hex') ?? '';
}

describe('editing and deleting single dossier items (issue 17)', () => {
  it('VX-4: a technician edits and deletes each kind of item over HTTP; a new password is encrypted under the dossier key; every change is audited by field name only; twice is harmless', async () => {
    const items = await customerWithItems('Segers');
    const urls = itemUrls(items);
    const start = await auditHead(database, voxtra);
    const before = await passwordCiphertext(items.credentialId);

    const asset = await call(technician, 'PATCH', urls.asset, { location: 'kelder', brand: null });
    expect(asset.statusCode, asset.body).toBe(200);
    expect(asset.json()).toMatchObject({
      assetId: items.assetId,
      kind: 'router',
      brand: null,
      location: 'kelder',
    });
    const credential = await call(technician, 'PATCH', urls.credential, {
      username: 'rtr-admin-qz',
      password: NEW_PASSWORD,
    });
    expect(credential.statusCode, credential.body).toBe(200);
    expect(credential.json()).toMatchObject({
      system: 'Router admin',
      username: 'rtr-admin-qz',
      password: '********',
    });
    expect(credential.body).not.toContain(NEW_PASSWORD);
    // The same edit again: the same item, one more audited change.
    const twice = await call(technician, 'PATCH', urls.fact, { seats: 5 });
    expect(twice.statusCode).toBe(200);
    const { updatedAt: _first, ...once } = twice.json<Record<string, unknown>>();
    const { updatedAt: _second, ...again } = (await call(technician, 'PATCH', urls.fact, { seats: 5 })).json<
      Record<string, unknown>
    >();
    expect(again).toEqual(once);

    // The new password is new ciphertext under the dossier key; the reveal rule shows it.
    expect(await passwordCiphertext(items.credentialId)).not.toBe(before);
    const dump = await dumpWholeDatabase(database.ownerUrl);
    expect(dump).not.toContain(NEW_PASSWORD);
    expect(dump).not.toContain('rtr-admin-qz');
    const revealed = await call(technician, 'POST', `${urls.credential}/reveal`, {
      field: 'password',
      reason: 'router reset after the edit, ticket T-77',
    });
    expect(revealed.json()).toEqual({ field: 'password', value: NEW_PASSWORD });

    // Bad input: a 400 naming the field, nothing changed.
    const bad = await call(technician, 'PATCH', urls.credential, { system: '' });
    expect(bad.statusCode).toBe(400);
    expect((await call(technician, 'PATCH', urls.asset, {})).statusCode).toBe(400);
    expect((await call(technician, 'PATCH', urls.asset, { password: 'x' })).statusCode).toBe(400);

    for (const url of Object.values(urls)) {
      expect((await call(technician, 'DELETE', url)).statusCode, url).toBe(204);
      // Twice: the second finds nothing.
      const again = await call(technician, 'DELETE', url);
      expect(again.statusCode, url).toBe(404);
      expect((await call(technician, 'PATCH', url, { notes: 'x' })).statusCode, url).toBe(404);
    }
    const dossier = await call(technician, 'GET', `/api/v1/customers/${items.subjectId}/dossier`);
    expect(dossier.json()).toMatchObject({ assets: [], credentials: [], facts: [] });

    const entries = (await auditSince(database, voxtra, start)).filter((entry) =>
      ['dossier.update', 'dossier.delete'].includes(entry.action),
    );
    expect(entries.map((entry) => [entry.action, entry.role, entry.reason])).toEqual([
      ['dossier.update', 'technician', 'asset changed: brand, location'],
      ['dossier.update', 'technician', 'credential changed: username, password'],
      ['dossier.update', 'technician', 'network fact or licence changed: seats'],
      ['dossier.update', 'technician', 'network fact or licence changed: seats'],
      ['dossier.delete', 'technician', 'asset deleted'],
      ['dossier.delete', 'technician', 'credential deleted'],
      ['dossier.delete', 'technician', 'network fact or licence deleted'],
    ]);
  });

  it('VX-4: every role of both seed policies against item edit and delete: only the Voxtra technician may; VoiceKing keeps no dossier; nothing changes on a refusal', async () => {
    const items = await customerWithItems('Goossens');
    const urls = itemUrls(items);
    for (const tenant of [voxtra, voiceking]) {
      const { policy } = await kernel.policies.current(tenant.tenantId);
      for (const role of Object.keys(policy.roles)) {
        if (tenant === voxtra && role === 'technician') continue;
        const session = await loginAs(app, kernel, tenant, role);
        // Each role declares a purpose of its own policy: Voxtra's dossier purpose, or (VoiceKing,
        // which has none) one the role holds.
        const purpose =
          tenant === voxtra
            ? 'technical_dossier'
            : (Object.entries(policy.purposes).find(([, p]) => p.roles.includes(role))?.[0] ?? '');
        const headers = { 'x-kluis-purpose': purpose };
        for (const [kind, url] of Object.entries(urls)) {
          const patch = await dossierCall(app, session, 'PATCH', url, { notes: 'tried' }, headers);
          const remove = await dossierCall(app, session, 'DELETE', url, undefined, headers);
          const where = `${tenant.slug} ${role} ${kind}`;
          const code = tenant === voxtra ? 'role_not_allowed' : 'purpose_not_allowed';
          for (const answer of [patch, remove]) {
            expect(answer.statusCode, where).toBe(403);
            expect(answer.json(), where).toMatchObject({ code });
          }
        }
      }
    }
    const dossier = await call(technician, 'GET', `/api/v1/customers/${items.subjectId}/dossier`);
    const body = dossier.json<{
      assets: unknown[];
      credentials: unknown[];
      facts: Array<{ notes: string | null }>;
    }>();
    expect([body.assets.length, body.credentials.length, body.facts[0]?.notes]).toEqual([1, 1, null]);
  });

  it("a technician of another tenant cannot edit or delete this tenant's items (404, nothing changed)", async () => {
    const items = await customerWithItems('Wuyts');
    const other = await createPolicyTenant(kernel, 'voxtra');
    const foreign = await loginAs(app, kernel, other, 'technician');
    for (const url of Object.values(itemUrls(items))) {
      expect((await call(foreign, 'PATCH', url, { notes: 'overwritten' })).statusCode, url).toBe(404);
      expect((await call(foreign, 'DELETE', url)).statusCode, url).toBe(404);
    }
    const dossier = await call(technician, 'GET', `/api/v1/customers/${items.subjectId}/dossier`);
    expect(dossier.body).not.toContain('overwritten');
    expect(dossier.json()).toMatchObject({ assets: [{}], credentials: [{}], facts: [{}] });
  });

  it('VK-16: free-text dossier notes are scanned like other notes: a national register number or an IBAN is refused on create, edit and import, naming the field, never the value', async () => {
    const items = await customerWithItems('Mertens');
    const base = `/api/v1/customers/${items.subjectId}/dossier`;
    const count = async () =>
      ownerRows<{ n: number }>(
        database,
        'select (select count(*) from dossier_assets where subject_id = $1) + (select count(*) from dossier_credentials where subject_id = $1) as n',
        [items.subjectId],
      );
    const before = await count();
    const created = await call(technician, 'POST', `${base}/assets`, {
      kind: 'laptop',
      notes: 'van de zaakvoerder, rrn 85073003328',
    });
    expect(created.statusCode).toBe(422);
    expect(created.json()).toMatchObject({
      code: 'sensitive_data_refused',
      details: { issues: [{ path: 'body/notes' }], kinds: ['national_register_number'] },
    });
    expect(created.body).not.toContain('85073003328');
    const edited = await call(technician, 'PATCH', itemUrls(items).credential, {
      notes: 'betaalt via BE68 5390 0754 7034',
    });
    expect(edited.statusCode).toBe(422);
    expect(edited.body).not.toContain('5390');
    const imported = await dossierCall(
      app,
      technician,
      'POST',
      `${base}/import?format=hudu`,
      'name,username,password,description\nMailbox,info,Secret-One!1,gewone nota\nBank,boekhouding,Secret-Two!2,rekening BE68 5390 0754 7034\n',
      { 'content-type': 'text/csv' },
    );
    expect(imported.statusCode).toBe(422);
    expect(imported.json<{ detail: string }>().detail).toContain('line 3');
    expect(imported.body).not.toContain('5390');
    expect(await count()).toEqual(before);
    // A plain note is kept.
    const plain = await call(technician, 'PATCH', itemUrls(items).asset, {
      notes: 'firmware 4.2 op 3 maart',
    });
    expect(plain.statusCode, plain.body).toBe(200);
  });

  it('VX-4: an edit killed (SIGKILL) half-way changes nothing; the retry applies it once', async () => {
    const items = await customerWithItems('Hermans');
    const url = itemUrls(items).credential;
    const before = await passwordCiphertext(items.credentialId);
    const start = await auditHead(database, voxtra);
    const server = await startServer({
      DATABASE_URL: database.ownerUrl,
      KLUIS_KEYSTORE_URL: database.keystoreOwnerUrl,
      KLUIS_MASTER_KEY: masterKey.toString('base64'),
      KLUIS_PORT: '0',
      KLUIS_DEMO: 'false',
      KLUIS_TEST_HOOK: 'dossier.item-written:kill',
    });
    try {
      // The session made in this process is a row in the same database: the server knows it.
      const answer = await fetch(`${server.url}${url}`, {
        method: 'PATCH',
        headers: {
          cookie: technician.cookie,
          'x-csrf-token': technician.csrfToken,
          'x-kluis-purpose': 'technical_dossier',
          'content-type': 'application/json',
        },
        body: JSON.stringify({ username: 'half-way', password: NEW_PASSWORD }),
      }).catch(() => 'died');
      expect(answer).toBe('died');
      await server.exited;
    } finally {
      server.child.kill('SIGKILL');
    }
    expect(await passwordCiphertext(items.credentialId)).toBe(before);
    const dossier = await call(technician, 'GET', `/api/v1/customers/${items.subjectId}/dossier`);
    expect(dossier.body).not.toContain('half-way');
    expect((await auditSince(database, voxtra, start)).map((entry) => entry.action)).not.toContain(
      'dossier.update',
    );

    const retry = await call(technician, 'PATCH', url, { username: 'half-way', password: NEW_PASSWORD });
    expect(retry.statusCode, retry.body).toBe(200);
    expect(
      (await auditSince(database, voxtra, start)).filter((entry) => entry.action === 'dossier.update'),
    ).toHaveLength(1);
  });
});

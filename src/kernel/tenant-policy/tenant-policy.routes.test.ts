import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../../../test/cli.js';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import type { Tenant } from '../../modules/tenants/index.js';
import type { Kernel } from '../kernel.js';
import { ENFORCED_PROMISES } from '../../modules/enforcement.js';
import type { PromiseKey } from '../policy/promises.js';
import { STATEMENT_TEXTS } from '../policy/statement.texts.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

describe('GET /t/<slug>/privacy — the statement in force, generated from the policy', () => {
  it('makes only the promises a module of this installation keeps (a promise is kept by code or not made)', async () => {
    const response = await app.inject({
      method: 'GET',
      url: `/t/${voiceking.slug}/privacy?lang=en&format=md`,
    });
    expect(response.statusCode).toBe(200);
    const en = STATEMENT_TEXTS.en;
    const sentenceOf: Record<Exclude<PromiseKey, 'dossier_erasure'>, string> = {
      newsletter_consent: en.newsletter.unsubscribe,
      email_tracking_consent: en.newsletter.tracking,
      cookie_consent: en.cookies.consent,
      cookie_choices_at_login: en.cookies.linked,
      disclosure_log: en.sharing.logged,
      incident_register: en.security.incidents,
      retention_sweeps: 'years without activity',
    };
    for (const [key, sentence] of Object.entries(sentenceOf)) {
      const isKept = ENFORCED_PROMISES.has(key as PromiseKey);
      expect({ key, said: response.body.includes(sentence) }).toEqual({ key, said: isKept });
    }
    // What the gate and the rights module enforce is always said.
    expect(response.body).toContain(en.security.environment);
    expect(response.body).toContain(en.rights.deadline(30));
  });

  it('VK-1 / VK-28: serves the Dutch statement by default, naming the controller and the current authority', async () => {
    const response = await app.inject({ method: 'GET', url: `/t/${voiceking.slug}/privacy` });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-language']).toBe('nl');
    for (const fact of [
      'VoiceKing',
      'BE0653.989.638',
      'Engelse Wandeling 2 K8V',
      '8500 Kortrijk',
      'Gegevensbeschermingsautoriteit',
      'Drukpersstraat 35',
    ]) {
      expect(response.body).toContain(fact);
    }
    expect(response.body).not.toMatch(/Commissie voor de bescherming van de persoonlijke levenssfeer/);
  });

  it('picks the language from ?lang= first, then Accept-Language', async () => {
    const french = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/privacy`,
      headers: { 'accept-language': 'fr-BE,fr;q=0.9,en;q=0.5' },
    });
    expect(french.headers['content-language']).toBe('fr');
    expect(french.body).toContain('Autorité de protection des données');
    const english = await app.inject({
      method: 'GET',
      url: `/t/${voxtra.slug}/privacy?lang=en`,
      headers: { 'accept-language': 'fr' },
    });
    expect(english.headers['content-language']).toBe('en');
    expect(english.body).toContain('Voxtra');
  });

  it('VK-29: a new policy version changes the published statement at once; the old version is kept', async () => {
    const source = await readFile(path.join(ROOT, 'policies/voxtra.yaml'), 'utf8');
    await kernel.policies.install(
      voxtra.tenantId,
      source.replace("version: '2026.1'", "version: '2027.1'"),
      'policies/voxtra.yaml',
    );
    const response = await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/privacy?format=md` });
    expect(response.body).toContain('2027.1');
    const versions = await runAsOwner<{ statement_version: string }>(
      database.ownerUrl,
      'select statement_version from tenant_policies where tenant_id = $1 order by version_no',
      [voxtra.tenantId],
    );
    expect(versions.rows.map((row) => row.statement_version)).toEqual(['2026.1', '2027.1']);
  });

  it('an unknown tenant is a 404 with a stable code; a bad language a 400', async () => {
    const missing = await app.inject({ method: 'GET', url: '/t/nobody-here/privacy' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ code: 'tenant_not_found' });
    const badLang = await app.inject({ method: 'GET', url: `/t/${voxtra.slug}/privacy?lang=de` });
    expect(badLang.statusCode).toBe(400);
    expect(badLang.json()).toMatchObject({ code: 'validation_failed' });
  });
});

describe('GET /api/v1/policy/register — the record of processing activities, for staff', () => {
  it('requires a session', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/v1/policy/register' });
    expect(response.statusCode).toBe(401);
    expect(response.json()).toMatchObject({ code: 'unauthenticated' });
  });

  it('gives an admin one CSV row per purpose of their own tenant', async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/register',
      headers: { cookie: admin.cookie },
    });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/csv; charset=utf-8');
    const { policy } = await kernel.policies.current(voiceking.tenantId);
    const lines = response.body.trimEnd().split('\r\n');
    expect(lines).toHaveLength(1 + Object.keys(policy.purposes).length);
    expect(response.body).toContain('order_processing');
    expect(response.body).not.toContain('technical_dossier'); // Voxtra's purpose, not this tenant's
  });

  it('refuses roles that do not keep the register', async () => {
    const technician = await loginAs(app, kernel, voxtra, 'technician');
    const response = await app.inject({
      method: 'GET',
      url: '/api/v1/policy/register',
      headers: { cookie: technician.cookie },
    });
    expect(response.statusCode).toBe(403);
  });
});

describe('staff login (VK-8)', () => {
  it('a wrong password and an unknown account get the same answer, and the failure is audited', async () => {
    await loginAs(app, kernel, voiceking, 'sales');
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: voiceking.slug, email: 'admin@voiceking.example', password: 'nope' },
    });
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: voiceking.slug, email: 'ghost@voiceking.example', password: 'nope' },
    });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.json<{ detail: string }>().detail).toBe(unknown.json<{ detail: string }>().detail);
    const denied = await runAsOwner<{ n: number }>(
      database.ownerUrl,
      "select count(*)::int as n from audit_log where tenant_id = $1 and action = 'login' and decision = 'denied'",
      [voiceking.tenantId],
    );
    expect(denied.rows[0]?.n).toBe(2);
  });

  it('the session cookie is HttpOnly and SameSite=Strict, and logout ends it', async () => {
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: admin.cookie } });
    expect(me.json()).toMatchObject({ tenant: voxtra.slug, role: 'admin' });
    const logout = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/logout',
      headers: { cookie: admin.cookie },
    });
    expect(logout.statusCode).toBe(204);
    // Attribute order is the cookie library's; each one must be there.
    const cleared = String(logout.headers['set-cookie']).split('; ');
    expect(cleared).toEqual(
      expect.arrayContaining(['kluis_session=', 'HttpOnly', 'SameSite=Strict', 'Max-Age=0']),
    );
    const after = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: admin.cookie },
    });
    expect(after.statusCode).toBe(401);
  });
});

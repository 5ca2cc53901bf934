import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, testLogger, type TestDatabase } from '../../test/database.js';
import { createPolicyTenant, createTestKernel } from '../../test/kernel.js';
import { createKernel } from '../kernel/kernel.js';
import { LocalKeyManagementService } from '../kernel/keyring/kms.js';
import { createApiToken, createStaffUser, revokeApiToken } from '../modules/staff/index.js';
import { systemClock } from '../platform/clock.js';
import { createAppDb, isDatabaseUnavailable, type Db } from '../platform/db.js';
import { buildApp } from './app.js';

let database: TestDatabase;
let unreachable: Db;
/** The app over a kernel whose database is unreachable; the key store is the test's own. */
let downApp: Awaited<ReturnType<typeof buildApp>>;
beforeAll(async () => {
  database = await createTestDatabase();
  // Nothing listens on port 1: every query fails to connect, as when PostgreSQL is down.
  unreachable = createAppDb({
    connectionString: 'postgres://kluis:x@127.0.0.1:1/kluis',
    assumeAppRole: false,
    logger: testLogger,
  }).db;
  const down = createKernel({
    db: unreachable,
    keystore: database.keystore,
    kms: new LocalKeyManagementService(randomBytes(32)),
    clock: systemClock,
  });
  downApp = await buildApp({ kernel: down, logger: testLogger, version: 'test' });
});
afterAll(async () => {
  await downApp.close();
  await unreachable.destroy();
  await database.close();
});

/** A voiceking tenant on the reachable database with one staff member, `<name>@staff.example`. */
async function tenantWithStaff(name: string, role: string) {
  const kernel = createTestKernel(database);
  const tenant = await createPolicyTenant(kernel, 'voiceking');
  const staff = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    { email: `${name}@staff.example`, displayName: name, role },
  );
  return { kernel, tenant, staff };
}

describe('a database error is a 503, never an answer about the input', () => {
  it('a staff login with the database unreachable answers 503 database_unavailable, not 401 "wrong password"', async () => {
    const { tenant, staff } = await tenantWithStaff('clerk', 'sales');
    const login = await downApp.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      payload: { tenant: tenant.slug, email: 'clerk@staff.example', password: staff.oneTimePassword },
    });
    expect(login.statusCode).toBe(503);
    expect(login.json<{ code: string }>().code).toBe('database_unavailable');
    const portal = await downApp.inject({
      method: 'POST',
      url: `/t/${tenant.slug}/account/login`,
      payload: { email: 'someone@mail.example', password: 'a-password-long-enough' },
    });
    expect(portal.statusCode).toBe(503);
    const session = await downApp.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: `kluis_session=${tenant.tenantId}.${'A'.repeat(43)}` },
    });
    expect(session.statusCode).toBe(503);
  });

  it('an API token with the database unreachable answers 503 database_unavailable, not 401; an unknown or revoked token with the database up is still 401', async () => {
    const { kernel, tenant, staff: maker } = await tenantWithStaff('sync', 'billing');
    const actor = { kind: 'staff', staffId: maker.staffId, role: 'billing' } as const;
    const valid = await createApiToken(kernel, tenant.tenantId, actor, { label: 'sync', role: 'billing' });
    const revoked = await createApiToken(kernel, tenant.tenantId, actor, { label: 'old', role: 'billing' });
    await revokeApiToken(kernel, tenant.tenantId, actor, revoked.view.tokenId);
    const unknown = `kluis_${tenant.tenantId}_${randomBytes(32).toString('base64url')}`;
    const me = (app: Awaited<ReturnType<typeof buildApp>>, token: string) =>
      app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${token}` } });

    for (const token of [valid.token, unknown]) {
      const response = await me(downApp, token);
      expect(response.statusCode).toBe(503);
      expect(response.json<{ code: string }>().code).toBe('database_unavailable');
    }
    // A malformed token needs no database: refused as before.
    expect((await me(downApp, 'kluis_nonsense')).statusCode).toBe(401);

    const upApp = await buildApp({ kernel, logger: testLogger, version: 'test' });
    expect((await me(upApp, valid.token)).statusCode).toBe(200);
    for (const token of [unknown, revoked.token, 'kluis_nonsense']) {
      const response = await me(upApp, token);
      expect(response.statusCode).toBe(401);
      expect(response.json<{ code: string }>().code).toBe('unauthenticated');
    }
    await upApp.close();
  });

  it('a logout with the database unreachable answers 503 database_unavailable and keeps the cookie, and the session still works; once the database is back the logout ends it', async () => {
    const { kernel, tenant, staff } = await tenantWithStaff('leaver', 'sales');
    const upApp = await buildApp({ kernel, logger: testLogger, version: 'test' });
    try {
      const login = await upApp.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenant: tenant.slug, email: 'leaver@staff.example', password: staff.oneTimePassword },
      });
      expect(login.statusCode).toBe(200);
      const cookie = String(login.headers['set-cookie']).split(';')[0] ?? '';
      expect(cookie).toMatch(/^kluis_session=\d+\./);
      const logout = (app: Awaited<ReturnType<typeof buildApp>>) =>
        app.inject({ method: 'POST', url: '/api/v1/auth/logout', headers: { cookie } });
      const me = () => upApp.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie } });

      const failed = await logout(downApp);
      expect(failed.statusCode).toBe(503);
      expect(failed.json<{ code: string }>().code).toBe('database_unavailable');
      expect(failed.headers['set-cookie']).toBeUndefined();
      expect((await me()).statusCode).toBe(200);

      expect((await logout(upApp)).statusCode).toBe(204);
      expect((await me()).statusCode).toBe(401);
    } finally {
      await upApp.close();
    }
  });

  it('a connection lost mid-transaction whose rollback then fails is classed as database unavailability (a 503 from the error handler), not an unexpected error (500)', async () => {
    const client = new pg.Client({ connectionString: database.ownerUrl });
    // `on`, not `once`: the loss can be reported more than once (the termination, then the socket's
    // end), and an 'error' with no listener left is an uncaught exception.
    const lost = new Promise<unknown>((resolve) => client.on('error', resolve));
    await client.connect();
    await client.query('begin');
    const { rows } = await client.query<{ pid: number }>('select pg_backend_pid() as pid');
    await runAsOwner(database.ownerUrl, 'select pg_terminate_backend($1)', [rows[0]?.pid]);
    // The statement cut by the loss, then the rollback the transaction runner sends after it.
    const cut = await client.query('select 1').catch((error: unknown) => error);
    await lost;
    const rollback = await client.query('rollback').catch((error: unknown) => error);
    expect(isDatabaseUnavailable(cut)).toBe(true);
    expect((rollback as Error).message).toMatch(/not queryable/);
    expect(isDatabaseUnavailable(rollback)).toBe(true);
    await client.end().catch(() => undefined);
    const closed = await client.query('select 1').catch((error: unknown) => error);
    expect(isDatabaseUnavailable(closed)).toBe(true);
  });
});

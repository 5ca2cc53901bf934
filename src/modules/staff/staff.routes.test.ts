import type { FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, totpCode, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant, createTestKernel } from '../../../test/kernel.js';
import { buildApp } from '../../http/app.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createLogger } from '../../platform/logger.js';
import type { Tenant } from '../tenants/index.js';
import { createStaffUser } from './staff.service.js';

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

const writeHeaders = (session: StaffSession) => ({
  cookie: session.cookie,
  'x-csrf-token': session.csrfToken,
});
const cookieOf = (response: LightMyRequestResponse): string =>
  String(response.headers['set-cookie']).split(';')[0] ?? '';

async function auditActions(tenant: Tenant): Promise<{ action: string; reason: string | null }[]> {
  const result = await runAsOwner<{ action: string; reason: string | null }>(
    database.ownerUrl,
    'select action, reason from audit_log where tenant_id = $1 order by seq',
    [tenant.tenantId],
  );
  return result.rows;
}

describe('staff management (admin only, purpose staff_accounts)', () => {
  it('VK-7: only a staff-managing role may list or change staff; the gate refuses and audits the others', async () => {
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    const list = await app.inject({ method: 'GET', url: '/api/v1/staff', headers: { cookie: sales.cookie } });
    expect(list.statusCode).toBe(403);
    expect(list.json()).toMatchObject({ code: 'role_not_allowed' });
    const disable = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${sales.staffId}/disable`,
      headers: writeHeaders(sales),
    });
    expect(disable.statusCode).toBe(403);
    const tokens = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(sales),
      payload: { label: 'sneaky', role: 'admin' },
    });
    expect(tokens.statusCode).toBe(403);
  });

  it('VK-7: an admin lists staff page by page; no hash, secret or code leaves', async () => {
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    for (const role of ['sales', 'billing', 'support']) await loginAs(app, kernel, voxtra, role);
    const first = await app.inject({
      method: 'GET',
      url: '/api/v1/staff?limit=2',
      headers: { cookie: admin.cookie },
    });
    expect(first.statusCode).toBe(200);
    const page1 = first.json<{ items: { staffId: number }[]; nextCursor: string | null }>();
    expect(page1.items).toHaveLength(2);
    expect(page1.nextCursor).toBe(String(page1.items[1]?.staffId));
    expect(first.headers.link).toBe(`</api/v1/staff?limit=2&cursor=${page1.nextCursor}>; rel="next"`);
    const second = await app.inject({
      method: 'GET',
      url: `/api/v1/staff?limit=2&cursor=${page1.nextCursor}`,
      headers: { cookie: admin.cookie },
    });
    const page2 = second.json<{ items: { staffId: number }[] }>();
    expect(page2.items[0]?.staffId).toBeGreaterThan(Number(page1.nextCursor));
    expect(Object.keys(page1.items[0] ?? {}).sort()).toEqual([
      'createdAt',
      'displayName',
      'email',
      'isLocked',
      'mfaEnabled',
      'mustChangePassword',
      'role',
      'staffId',
      'status',
    ]);
    expect(first.body).not.toMatch(/argon2|password_hash|totp|recovery/i);
  });

  it('VK-7: inviting returns a one-time password once; a role must be one of the policy', async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const invite = await app.inject({
      method: 'POST',
      url: '/api/v1/staff',
      headers: writeHeaders(admin),
      payload: { email: 'New.Tech@Staff.example', displayName: 'New tech', role: 'technician' },
    });
    expect(invite.statusCode).toBe(201);
    const created = invite.json<{ staffId: number; email: string; oneTimePassword: string }>();
    expect(created.email).toBe('new.tech@staff.example');
    expect(created.oneTimePassword.length).toBeGreaterThanOrEqual(20);
    const shown = await app.inject({
      method: 'GET',
      url: `/api/v1/staff/${created.staffId}`,
      headers: { cookie: admin.cookie },
    });
    expect(shown.json()).toMatchObject({ role: 'technician', status: 'active', mustChangePassword: true });
    expect(shown.body).not.toContain(created.oneTimePassword);
    const badRole = await app.inject({
      method: 'PUT',
      url: `/api/v1/staff/${created.staffId}/role`,
      headers: writeHeaders(admin),
      payload: { role: 'wizard' },
    });
    expect(badRole.statusCode).toBe(400);
    const promoted = await app.inject({
      method: 'PUT',
      url: `/api/v1/staff/${created.staffId}/role`,
      headers: writeHeaders(admin),
      payload: { role: 'billing' },
    });
    expect(promoted.json()).toMatchObject({ role: 'billing' });
    const actions = await auditActions(voiceking);
    expect(actions).toContainEqual({
      action: 'staff.role.change',
      reason: 'role technician changed to billing',
    });
  });

  it('VK-7: an admin cannot disable or demote the last active admin', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const admin = await loginAs(app, kernel, tenant, 'admin');
    const demote = await app.inject({
      method: 'PUT',
      url: `/api/v1/staff/${admin.staffId}/role`,
      headers: writeHeaders(admin),
      payload: { role: 'sales' },
    });
    expect(demote.statusCode).toBe(409);
    expect(demote.json()).toMatchObject({ code: 'conflict' });
    const disable = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${admin.staffId}/disable`,
      headers: writeHeaders(admin),
    });
    expect(disable.statusCode).toBe(409);
    // With a second admin, the first may step down.
    const second = await loginAs(app, kernel, tenant, 'admin');
    const stepDown = await app.inject({
      method: 'PUT',
      url: `/api/v1/staff/${admin.staffId}/role`,
      headers: writeHeaders(admin),
      payload: { role: 'sales' },
    });
    expect(stepDown.statusCode).toBe(200);
    // The role change ended the demoted admin's sessions.
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: admin.cookie } }))
        .statusCode,
    ).toBe(401);
    const last = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${second.staffId}/disable`,
      headers: writeHeaders(second),
    });
    expect(last.statusCode).toBe(409);
  });

  it('VK-8: an admin resets a lost second factor; the member must enrol again at the next login', async () => {
    const admin = await loginAs(app, kernel, voxtra, 'admin');
    const tech = await loginAs(app, kernel, voxtra, 'technician');
    const reset = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${tech.staffId}/mfa/reset`,
      headers: writeHeaders(admin),
    });
    expect(reset.json()).toMatchObject({ mfaEnabled: false });
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: tech.cookie } }))
        .statusCode,
    ).toBe(401);
  });
});

describe('API tokens', () => {
  it('VK-7: a token is scoped to one role, shown once, stored hashed, audited, and stops at revocation', async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    const privacyOfficer = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const create = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(billing),
      payload: { label: 'invoicing sync', role: 'billing' },
    });
    expect(create.statusCode, create.body).toBe(201);
    const created = create.json<{ tokenId: number; token: string; role: string }>();
    expect(created.token).toMatch(new RegExp(`^kluis_${voiceking.tenantId}_[A-Za-z0-9_-]{43}$`));
    const bearer = { authorization: `Bearer ${created.token}` };

    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer });
    expect(me.json()).toMatchObject({ role: 'billing', via: 'token', session: 'full' });
    // The scheme's case does not matter (RFC 9110): a client writing `bearer` is the same caller.
    const lower = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `bearer ${created.token}` },
    });
    expect(lower.json()).toMatchObject({ role: 'billing', via: 'token' });
    // Scoped: billing may not read the register, whoever created the token.
    const register = await app.inject({ method: 'GET', url: '/api/v1/policy/register', headers: bearer });
    expect(register.statusCode).toBe(403);
    // Tokens cannot manage staff or mint tokens.
    expect((await app.inject({ method: 'GET', url: '/api/v1/staff', headers: bearer })).statusCode).toBe(403);

    const officer = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(privacyOfficer),
      payload: { label: 'register export', role: 'privacy_officer' },
    });
    const officerBearer = { authorization: `Bearer ${officer.json<{ token: string }>().token}` };
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/policy/register', headers: officerBearer }))
        .statusCode,
    ).toBe(200);

    const stored = await runAsOwner<{ token_hash: Buffer; last_used_at: Date | null }>(
      database.ownerUrl,
      'select token_hash, last_used_at from staff_api_tokens where tenant_id = $1 and token_id = $2',
      [voiceking.tenantId, created.tokenId],
    );
    expect(stored.rows[0]?.token_hash).toHaveLength(32);
    expect(stored.rows[0]?.token_hash.toString('latin1')).not.toContain(created.token.slice(-43));
    expect(stored.rows[0]?.last_used_at).not.toBeNull();

    const list = await app.inject({
      method: 'GET',
      url: '/api/v1/tokens',
      headers: { cookie: admin.cookie },
    });
    expect(list.statusCode).toBe(200);
    expect(list.body).not.toContain(created.token.slice(-43));
    expect(list.json<{ items: { tokenId: number }[] }>().items.map((item) => item.tokenId)).toContain(
      created.tokenId,
    );

    const revoke = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${created.tokenId}`,
      headers: writeHeaders(admin),
    });
    expect(revoke.statusCode).toBe(200);
    expect(revoke.json<{ revokedAt: string | null }>().revokedAt).not.toBeNull();
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(
      401,
    );
    const actions = (await auditActions(voiceking)).map((row) => row.action);
    expect(actions).toContain('token.create');
    expect(actions).toContain('token.revoke');
  });

  it('VK-7: a token ends by itself: 90 days unless its maker chose 1 to 365, shown in the list with its status (active, expired, revoked); past its end it answers 401 and is not marked used; an end beyond a year or an unknown field is refused and makes nothing (attack S22-4, decision 1002)', async () => {
    const billing = await loginAs(app, kernel, voiceking, 'billing');
    const make = (payload: Record<string, unknown>) =>
      app.inject({ method: 'POST', url: '/api/v1/tokens', headers: writeHeaders(billing), payload });
    const count = async () =>
      (
        await runAsOwner<{ n: number }>(
          database.ownerUrl,
          'select count(*)::int as n from staff_api_tokens where tenant_id = $1',
          [voiceking.tenantId],
        )
      ).rows[0]?.n;
    const before = await count();
    for (const payload of [
      { label: 'x', role: 'billing', expiresInDays: 366 },
      { label: 'x', role: 'billing', expiresInDays: 0 },
      { label: 'x', role: 'billing', expiresAt: '2027-01-01T00:00:00Z' },
    ]) {
      const refused = await make(payload);
      expect(refused.statusCode, refused.body).toBe(400);
      expect(refused.json()).toMatchObject({ code: 'validation_failed' });
    }
    expect(await count()).toBe(before);

    const byDefault = await make({ label: 'nightly export', role: 'billing' });
    expect(byDefault.statusCode, byDefault.body).toBe(201);
    const made = byDefault.json<{ tokenId: number; token: string; createdAt: string; expiresAt: string }>();
    expect(Date.parse(made.expiresAt) - Date.parse(made.createdAt)).toBe(90 * 86_400_000);
    const short = await make({ label: 'one day', role: 'billing', expiresInDays: 1 });
    const shortMade = short.json<{ tokenId: number; token: string; createdAt: string; expiresAt: string }>();
    expect(Date.parse(shortMade.expiresAt) - Date.parse(shortMade.createdAt)).toBe(86_400_000);
    const listed = await app.inject({
      method: 'GET',
      url: '/api/v1/tokens',
      headers: { cookie: billing.cookie },
    });
    expect(
      listed
        .json<{ items: { tokenId: number; expiresAt: string }[] }>()
        .items.find((item) => item.tokenId === shortMade.tokenId)?.expiresAt,
    ).toBe(shortMade.expiresAt);

    // Two days pass for the one-day token (its dates moved back in the database).
    await runAsOwner(
      database.ownerUrl,
      `update staff_api_tokens set created_at = now() - interval '2 days', expires_at = now() - interval '1 day'
        where tenant_id = $1 and token_id = $2`,
      [voiceking.tenantId, shortMade.tokenId],
    );
    const expired = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${shortMade.token}` },
    });
    expect(expired.statusCode).toBe(401);
    const used = await runAsOwner<{ last_used_at: Date | null }>(
      database.ownerUrl,
      'select last_used_at from staff_api_tokens where tenant_id = $1 and token_id = $2',
      [voiceking.tenantId, shortMade.tokenId],
    );
    expect(used.rows).toEqual([{ last_used_at: null }]);
    const live = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { authorization: `Bearer ${made.token}` },
    });
    expect(live.json()).toMatchObject({ role: 'billing', via: 'token' });

    // The list says which one has ended, not only its date (attack S23-2, noticed).
    const statuses = async () =>
      (await app.inject({ method: 'GET', url: '/api/v1/tokens', headers: { cookie: billing.cookie } })).json<{
        items: { tokenId: number; status: string }[];
      }>().items;
    expect(await statuses()).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ tokenId: shortMade.tokenId, status: 'expired' }),
        expect.objectContaining({ tokenId: made.tokenId, status: 'active' }),
      ]),
    );
    const revoked = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${made.tokenId}`,
      headers: writeHeaders(billing),
    });
    expect(revoked.json()).toMatchObject({ tokenId: made.tokenId, status: 'revoked' });
    for (const id of ['0x1', `${made.tokenId}.0`, ` ${made.tokenId}`]) {
      const odd = await app.inject({
        method: 'DELETE',
        url: `/api/v1/tokens/${encodeURIComponent(id)}`,
        headers: writeHeaders(billing),
      });
      expect(odd.statusCode, id).toBe(400);
    }
  });

  it('VK-7: a token stops when its accountable maker is disabled, and stays revoked when the account is enabled again (decision 0876)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voiceking');
    const first = await loginAs(app, kernel, tenant, 'sales');
    const second = await loginAs(app, kernel, tenant, 'admin');
    const create = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(first),
      payload: { label: 'crm', role: 'sales' },
    });
    const bearer = { authorization: `Bearer ${create.json<{ token: string }>().token}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(
      200,
    );
    await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${first.staffId}/disable`,
      headers: writeHeaders(second),
    });
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(
      401,
    );
    // Enabled again: the token stays revoked (decision 0876).
    const enabled = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${first.staffId}/enable`,
      headers: writeHeaders(second),
    });
    expect(enabled.statusCode, enabled.body).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(
      401,
    );
  });

  it('VK-7: resetting a staff member’s second factor revokes the API tokens the account made, as disabling does (attack S20-16, decision 0922)', async () => {
    const tenant = await createPolicyTenant(kernel, 'voxtra');
    const member = await loginAs(app, kernel, tenant, 'support');
    const admin = await loginAs(app, kernel, tenant, 'admin');
    const create = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(member),
      payload: { label: 'sup tok', role: 'support' },
    });
    expect(create.statusCode, create.body).toBe(201);
    const bearer = { authorization: `Bearer ${create.json<{ token: string }>().token}` };
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(
      200,
    );
    const reset = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${member.staffId}/mfa/reset`,
      headers: writeHeaders(admin),
    });
    expect(reset.statusCode, reset.body).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: bearer })).statusCode).toBe(
      401,
    );
    const tokens = await runAsOwner<{ revoked: boolean }>(
      database.ownerUrl,
      'select revoked_at is not null as revoked from staff_api_tokens where tenant_id = $1 and created_by = $2',
      [tenant.tenantId, member.staffId],
    );
    expect(tokens.rows).toEqual([{ revoked: true }]);
  });
});

describe('a former staff member’s account (decision 0919)', () => {
  for (const seed of ['voiceking', 'voxtra'] as const) {
    it(`VK-14: ${seed}: an account is kept while the employment runs and removed when it ends: disabled first, then its name, e-mail and credentials erased; the audit keeps its number; not by other roles, not one's own, not another tenant's, not twice`, async () => {
      const tenant = await createPolicyTenant(kernel, seed);
      const other = await createPolicyTenant(kernel, seed === 'voiceking' ? 'voxtra' : 'voiceking');
      const admin = await loginAs(app, kernel, tenant, 'admin');
      const leaver = await loginAs(app, kernel, tenant, 'support');
      const outsider = await loginAs(app, kernel, other, 'admin');
      const [row] = (
        await runAsOwner<{ subject_id: number; email: string }>(
          database.ownerUrl,
          'select subject_id, email from staff_users where tenant_id = $1 and staff_id = $2',
          [tenant.tenantId, leaver.staffId],
        )
      ).rows;
      const remove = (session: StaffSession, staffId: number) =>
        app.inject({ method: 'DELETE', url: `/api/v1/staff/${staffId}`, headers: writeHeaders(session) });
      // Still employed: kept. Other roles, one's own account, another tenant: refused, nothing changed.
      expect((await remove(admin, leaver.staffId)).json()).toMatchObject({
        code: 'conflict',
        details: { reason: 'still_active' },
      });
      expect((await remove(leaver, leaver.staffId)).statusCode).toBe(403);
      expect((await remove(admin, admin.staffId)).json()).toMatchObject({
        details: { reason: 'own_account' },
      });
      const disabled = await app.inject({
        method: 'POST',
        url: `/api/v1/staff/${leaver.staffId}/disable`,
        headers: writeHeaders(admin),
      });
      expect(disabled.statusCode, disabled.body).toBe(200);
      expect((await remove(outsider, leaver.staffId)).statusCode).toBe(404);
      // The employment ended: removed.
      const removed = await remove(admin, leaver.staffId);
      expect(removed.statusCode, removed.body).toBe(200);
      expect(removed.json()).toEqual({ staffId: leaver.staffId, removed: true });
      const kept = await runAsOwner(
        database.ownerUrl,
        `select (select count(*)::int from staff_users where tenant_id = $1 and staff_id = $2) as accounts,
                (select count(*)::int from staff_users where email = $3) as emails,
                (select erased_at is not null from data_subjects where tenant_id = $1 and subject_id = $4) as erased,
                (select count(*)::int from subject_key_destructions where tenant_id = $1 and subject_id = $4) as keys`,
        [tenant.tenantId, leaver.staffId, row?.email, row?.subject_id],
      );
      expect(kept.rows).toEqual([{ accounts: 0, emails: 0, erased: true, keys: 2 }]);
      const actions = await auditActions(tenant);
      expect(actions).toEqual(
        expect.arrayContaining([
          {
            action: 'staff.remove',
            reason: `staff ${leaver.staffId} (support) removed: name, e-mail and credentials erased`,
          },
        ]),
      );
      expect(JSON.stringify(actions)).not.toContain(row?.email ?? 'never');
      // Twice: nobody is left to remove.
      expect((await remove(admin, leaver.staffId)).statusCode).toBe(404);
      const login = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: { tenant: tenant.slug, email: row?.email, password: 'whatever-it-was-1' },
      });
      expect(login.statusCode).toBe(401);
    });
  }
});

describe('tenant isolation', () => {
  it('VK-7: a technician of tenant A cannot act in tenant B with a session or a token', async () => {
    const technician = await loginAs(app, kernel, voxtra, 'technician');
    const adminA = await loginAs(app, kernel, voxtra, 'admin');
    const adminB = await loginAs(app, kernel, voiceking, 'admin');
    // The same session token presented for the other tenant.
    const [, token] = technician.cookie.split('=')[1]?.split('.') ?? [];
    const forged = `kluis_session=${voiceking.tenantId}.${token}`;
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: forged } })).statusCode,
    ).toBe(401);

    const create = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(technician),
      payload: { label: 'field app', role: 'technician' },
    });
    const apiToken = create.json<{ token: string }>().token;
    const forgedToken = apiToken.replace(`kluis_${voxtra.tenantId}_`, `kluis_${voiceking.tenantId}_`);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/auth/me',
          headers: { authorization: `Bearer ${forgedToken}` },
        })
      ).statusCode,
    ).toBe(401);
    expect(
      (
        await app.inject({
          method: 'GET',
          url: '/api/v1/auth/me',
          headers: { authorization: `Bearer ${apiToken}` },
        })
      ).json(),
    ).toMatchObject({ tenant: voxtra.slug, role: 'technician' });

    // Tenant A's admin cannot see or change tenant B's staff or tokens by id.
    const staffB = await createStaffUser(
      kernel,
      voiceking.tenantId,
      { kind: 'system', job: 'test' },
      { email: 'b-only@staff.example', displayName: 'B', role: 'sales' },
    );
    const tokenB = await app.inject({
      method: 'POST',
      url: '/api/v1/tokens',
      headers: writeHeaders(adminB),
      payload: { label: 'b integration', role: 'admin' },
    });
    const get = await app.inject({
      method: 'GET',
      url: `/api/v1/staff/${staffB.staffId}`,
      headers: { cookie: adminA.cookie },
    });
    expect(get.statusCode).toBe(404);
    const disable = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${staffB.staffId}/disable`,
      headers: writeHeaders(adminA),
    });
    expect(disable.statusCode).toBe(404);
    const revoke = await app.inject({
      method: 'DELETE',
      url: `/api/v1/tokens/${tokenB.json<{ tokenId: number }>().tokenId}`,
      headers: writeHeaders(adminA),
    });
    expect(revoke.statusCode).toBe(404);
    const listA = await app.inject({
      method: 'GET',
      url: '/api/v1/staff?limit=200',
      headers: { cookie: adminA.cookie },
    });
    expect(listA.body).not.toContain('b-only@staff.example');
  });
});

describe('secrets stay out of responses and logs', () => {
  it('VK-8: no response body and no log line carries a password, session token, API token or TOTP secret', async () => {
    const lines: string[] = [];
    const logger = createLogger({
      level: 'trace',
      destination: { write: (line: string) => void lines.push(line) },
    });
    const logged = await buildApp({ kernel, logger, version: 'test' });
    const bodies: { url: string; body: string }[] = [];
    const call = async (
      options: InjectOptions & { method: string; url: string },
    ): Promise<LightMyRequestResponse> => {
      const response = await logged.inject(options);
      bodies.push({ url: `${options.method} ${options.url}`, body: response.body });
      return response;
    };
    try {
      const tenant = await createPolicyTenant(kernel, 'voxtra');
      const bootstrap = await createStaffUser(
        kernel,
        tenant.tenantId,
        { kind: 'system', job: 'test' },
        { email: 'first-admin@staff.example', displayName: 'First', role: 'admin' },
      );
      const secrets: { label: string; value: string; shownBy?: string }[] = [
        { label: 'bootstrap password', value: bootstrap.oneTimePassword },
      ];
      const login = await call({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: {
          tenant: tenant.slug,
          email: 'first-admin@staff.example',
          password: bootstrap.oneTimePassword,
        },
      });
      const enrolCookie = cookieOf(login);
      const enrolCsrf = login.json<{ csrfToken: string }>().csrfToken;
      secrets.push({ label: 'enrolment session', value: enrolCookie.split('=')[1] ?? '' });
      secrets.push({ label: 'enrolment csrf', value: enrolCsrf, shownBy: 'POST /api/v1/auth/login' });
      const enrol = await call({
        method: 'POST',
        url: '/api/v1/auth/mfa/enrol',
        headers: { cookie: enrolCookie, 'x-csrf-token': enrolCsrf },
      });
      const { secret } = enrol.json<{ secret: string }>();
      secrets.push({ label: 'TOTP secret', value: secret, shownBy: 'POST /api/v1/auth/mfa/enrol' });
      const confirm = await call({
        method: 'POST',
        url: '/api/v1/auth/mfa/confirm',
        headers: { cookie: enrolCookie, 'x-csrf-token': enrolCsrf },
        payload: { code: await totpCode(kernel, secret) },
      });
      const session = {
        cookie: cookieOf(confirm),
        'x-csrf-token': confirm.json<{ csrfToken: string }>().csrfToken,
      };
      secrets.push({ label: 'full session', value: session.cookie.split('=')[1] ?? '' });
      for (const code of confirm.json<{ recoveryCodes: string[] }>().recoveryCodes)
        secrets.push({ label: 'recovery code', value: code, shownBy: 'POST /api/v1/auth/mfa/confirm' });

      await call({
        method: 'POST',
        url: '/api/v1/auth/password',
        headers: session,
        payload: { currentPassword: bootstrap.oneTimePassword, newPassword: 'the new admin passphrase' },
      });
      secrets.push({ label: 'new password', value: 'the new admin passphrase' });
      // A wrong password and a wrong code, so the failure paths log too.
      await call({
        method: 'POST',
        url: '/api/v1/auth/login',
        payload: {
          tenant: tenant.slug,
          email: 'first-admin@staff.example',
          password: 'Wrong-Guess-Passphrase',
        },
      });
      secrets.push({ label: 'wrong password', value: 'Wrong-Guess-Passphrase' });
      const invite = await call({
        method: 'POST',
        url: '/api/v1/staff',
        headers: session,
        payload: { email: 'invited@staff.example', displayName: 'Invited', role: 'sales' },
      });
      secrets.push({
        label: 'invited one-time password',
        value: invite.json<{ oneTimePassword: string }>().oneTimePassword,
        shownBy: 'POST /api/v1/staff',
      });
      const token = await call({
        method: 'POST',
        url: '/api/v1/tokens',
        headers: session,
        payload: { label: 'integration', role: 'admin' },
      });
      const apiToken = token.json<{ token: string }>().token;
      secrets.push({ label: 'API token', value: apiToken, shownBy: 'POST /api/v1/tokens' });
      await call({ method: 'GET', url: '/api/v1/auth/me', headers: { authorization: `Bearer ${apiToken}` } });
      await call({ method: 'GET', url: '/api/v1/tokens', headers: { cookie: session.cookie } });
      await call({ method: 'GET', url: '/api/v1/staff', headers: { cookie: session.cookie } });
      await call({
        method: 'GET',
        url: '/api/v1/auth/me',
        headers: { authorization: `Bearer ${apiToken.slice(0, -2)}xx` },
      });

      expect(lines.length).toBeGreaterThan(10);
      const log = lines.join('\n');
      for (const { label, value, shownBy } of secrets) {
        expect(value.length, label).toBeGreaterThanOrEqual(16);
        expect(log.includes(value), `${label} in a log line`).toBe(false);
        const leaks = bodies
          .filter(({ url, body }) => url !== shownBy && body.includes(value))
          .map(({ url }) => url);
        expect(leaks, `${label} in a response`).toEqual([]);
      }
      // The secret of the otpauth URI is the TOTP secret: shown in the enrolment answer only.
      expect(bodies.filter(({ body }) => body.includes('otpauth://')).map(({ url }) => url)).toEqual([
        'POST /api/v1/auth/mfa/enrol',
      ]);
    } finally {
      await logged.close();
    }
  });

  it('the OpenAPI document lists the staff, MFA and token routes', async () => {
    const response = await app.inject({ method: 'GET', url: '/api/openapi.json' });
    const paths = Object.keys(response.json<{ paths: Record<string, unknown> }>().paths);
    for (const path of [
      '/api/v1/auth/mfa/enrol',
      '/api/v1/auth/mfa/confirm',
      '/api/v1/auth/mfa/verify',
      '/api/v1/auth/password',
      '/api/v1/staff',
      '/api/v1/staff/{staffId}/role',
      '/api/v1/tokens',
      '/api/v1/tokens/{tokenId}',
    ])
      expect(paths).toContain(path);
  });
});

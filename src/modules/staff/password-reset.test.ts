import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../../test/cli.js';
import { openCliWorkspace, type CliWorkspace } from '../../../test/cli-workspace.js';
import { runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, totpCode, type StaffSession } from '../../../test/http.js';
import { createPolicyTenant } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { createApiToken } from './token.service.js';

// Attack finding S22-7: a staff member who forgot their password could not be given a new one.

let workspace: CliWorkspace;
let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let tenant: Tenant;
let env: Record<string, string>;

beforeAll(async () => {
  // The CLI opens its own kernel on the same database and master key.
  workspace = await openCliWorkspace('kluis-staff-reset-');
  ({ database, kernel, env } = workspace);
  app = await createTestApp(kernel);
  tenant = await createPolicyTenant(kernel, 'voiceking');
});
afterAll(async () => {
  await app.close();
  await workspace.close();
});

const headersOf = (session: StaffSession) => ({ cookie: session.cookie, 'x-csrf-token': session.csrfToken });

function login(email: string, password: string) {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    payload: { tenant: tenant.slug, email, password },
  });
}

async function emailOf(staffId: number): Promise<string> {
  const rows = await runAsOwner<{ email: string }>(
    database.ownerUrl,
    'select email from staff_users where tenant_id = $1 and staff_id = $2',
    [tenant.tenantId, staffId],
  );
  return rows.rows[0]?.email ?? '';
}

async function accountState(staffId: number) {
  const rows = await runAsOwner<{ must: boolean; mfa: boolean; sessions: string; tokens: string }>(
    database.ownerUrl,
    `select u.must_change_password as must, u.totp_enabled_at is not null as mfa,
            (select count(*) from staff_sessions s where s.tenant_id = u.tenant_id and s.staff_id = u.staff_id) as sessions,
            (select count(*) from staff_api_tokens t where t.tenant_id = u.tenant_id and t.created_by = u.staff_id and t.revoked_at is null) as tokens
       from staff_users u where u.tenant_id = $1 and u.staff_id = $2`,
    [tenant.tenantId, staffId],
  );
  const row = rows.rows[0];
  return { must: row?.must, mfa: row?.mfa, sessions: Number(row?.sessions), tokens: Number(row?.tokens) };
}

async function resetAudit(): Promise<{ actor_id: string; reason: string }[]> {
  return (
    await runAsOwner<{ actor_id: string; reason: string }>(
      database.ownerUrl,
      "select actor_id, reason from audit_log where tenant_id = $1 and action = 'staff.password.reset' order by seq",
      [tenant.tenantId],
    )
  ).rows;
}

describe('a forgotten staff password (VK-8; attack S22-7)', () => {
  it('VK-8: an admin gives a staff member a new one-time password: it only opens the password change, every session of the member ends, their second factor and API tokens stay, audited; never one’s own', async () => {
    const admin = await loginAs(app, kernel, tenant, 'admin');
    const member = await loginAs(app, kernel, tenant, 'privacy_officer');
    await createApiToken(
      kernel,
      tenant.tenantId,
      { kind: 'staff', staffId: member.staffId, role: 'privacy_officer' },
      { label: 'rights mailbox', role: 'privacy_officer' },
    );
    const before = await accountState(member.staffId);
    expect(before).toMatchObject({ must: false, mfa: true, tokens: 1 });
    expect(before.sessions).toBeGreaterThan(0);

    const own = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${admin.staffId}/password/reset`,
      headers: headersOf(admin),
    });
    expect(own.statusCode).toBe(403);
    const byMember = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${admin.staffId}/password/reset`,
      headers: headersOf(member),
    });
    expect(byMember.statusCode).toBe(403); // not an admin role
    const unknown = await app.inject({
      method: 'POST',
      url: '/api/v1/staff/999999/password/reset',
      headers: headersOf(admin),
    });
    expect(unknown.statusCode).toBe(404);

    const reset = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${member.staffId}/password/reset`,
      headers: headersOf(admin),
    });
    expect(reset.statusCode, reset.body).toBe(200);
    const { oneTimePassword, sessionsEnded } = reset.json<{
      oneTimePassword: string;
      sessionsEnded: number;
    }>();
    expect(sessionsEnded).toBe(before.sessions);
    expect(await accountState(member.staffId)).toEqual({ must: true, mfa: true, sessions: 0, tokens: 1 });
    const me = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: member.cookie },
    });
    expect(me.statusCode).toBe(401);

    // The one-time password still asks the second factor, then only opens the password change.
    const email = await emailOf(member.staffId);
    const first = await login(email, oneTimePassword);
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({ session: 'mfa_pending' });
    const cookie = String(first.headers['set-cookie']).split(';')[0] ?? '';
    const csrf = first.json<{ csrfToken: string }>().csrfToken;
    const verified = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/verify',
      headers: { cookie, 'x-csrf-token': csrf },
      // The next time step: the enrolment spent this one (a code is never taken twice).
      payload: { code: await totpCode(kernel, member.totpSecret ?? '', 30) },
    });
    expect(verified.statusCode, verified.body).toBe(200);
    const session = {
      cookie: String(verified.headers['set-cookie']).split(';')[0] ?? '',
      'x-csrf-token': verified.json<{ csrfToken: string }>().csrfToken,
    };
    const stage = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: session });
    expect(stage.json()).toMatchObject({ session: 'password_change' });
    const requests = await app.inject({ method: 'GET', url: '/api/v1/requests', headers: session });
    expect(requests.statusCode).toBe(403);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: session,
      payload: { currentPassword: oneTimePassword, newPassword: 'Zomer-Router-Kortrijk-Lift' },
    });
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await accountState(member.staffId)).must).toBe(false);

    expect(await resetAudit()).toEqual([
      {
        actor_id: String(admin.staffId),
        reason: `one-time password issued; ${before.sessions} session(s) ended`,
      },
    ]);
  });

  it('VK-8: kluis staff reset-password gives any account a new one-time password, the last admin’s too', async () => {
    const admins = await runAsOwner<{ staff_id: number }>(
      database.ownerUrl,
      "select staff_id from staff_users where tenant_id = $1 and role = 'admin' and status = 'active'",
      [tenant.tenantId],
    );
    // The admin of the test above is the tenant's only one.
    expect(admins.rows).toHaveLength(1);
    const adminId = admins.rows[0]?.staff_id ?? 0;

    const bad = await runCli(['staff', 'reset-password', 'x', '--tenant', tenant.slug], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('staffId: expected a positive number');
    const missing = await runCli(['staff', 'reset-password', '999999', '--tenant', tenant.slug], env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('no such staff user');

    const reset = await runCli(['staff', 'reset-password', String(adminId), '--tenant', tenant.slug], env);
    expect(reset.stderr).toBe('');
    expect(reset.code).toBe(0);
    const oneTimePassword = /one-time password: (\S+)/.exec(reset.stdout)?.[1] ?? '';
    expect(oneTimePassword).toMatch(/^[A-Za-z0-9_-]{20}$/);
    expect(reset.stdout).toContain('change it at the next login');
    expect((await accountState(adminId)).must).toBe(true);
    const signedIn = await login(await emailOf(adminId), oneTimePassword);
    expect(signedIn.statusCode).toBe(200);
    expect((await resetAudit()).at(-1)).toMatchObject({ actor_id: 'cli' });
  });

  it('VK-8: five resets of one account at once give one 200 whose one-time password logs in and four 409 naming the first; a minute later, or once it is used, another reset is taken; the path id is plain decimal and the body strict (attack S23-2)', async () => {
    const admin = await loginAs(app, kernel, tenant, 'admin');
    const member = await loginAs(app, kernel, tenant, 'sales');
    const reset = (id: string | number, payload?: object) =>
      app.inject({
        method: 'POST',
        url: `/api/v1/staff/${id}/password/reset`,
        headers: headersOf(admin),
        ...(payload === undefined ? {} : { payload }),
      });

    for (const id of ['6.0', '0x6', '%206', '6e0', '-6', '+6', '06', '1e3']) {
      const odd = await reset(id.replace(/^6|6$/, String(member.staffId)));
      expect(odd.statusCode, id).toBe(400);
      expect(odd.json(), id).toMatchObject({ code: 'validation_failed' });
    }
    const ownChoice = await reset(member.staffId, { password: 'Mine-Chosen-123' });
    expect(ownChoice.statusCode).toBe(400);
    expect(ownChoice.body).toContain('password');
    expect((await accountState(member.staffId)).must).toBe(false); // nothing written
    const auditBefore = (await resetAudit()).length;

    const answers = await Promise.all(Array.from({ length: 5 }, () => reset(member.staffId, {})));
    const statuses = answers.map((answer) => answer.statusCode).sort();
    expect(statuses).toEqual([200, 409, 409, 409, 409]);
    const won = answers.find((answer) => answer.statusCode === 200);
    const { oneTimePassword } = won?.json<{ oneTimePassword: string }>() ?? { oneTimePassword: '' };
    const resetAt = await runAsOwner<{ at: Date }>(
      database.ownerUrl,
      'select password_reset_at as at from staff_users where tenant_id = $1 and staff_id = $2',
      [tenant.tenantId, member.staffId],
    );
    const at = resetAt.rows[0]?.at.toISOString() ?? 'none';
    for (const refused of answers.filter((answer) => answer.statusCode === 409)) {
      expect(refused.json()).toMatchObject({ code: 'conflict', details: { previousResetAt: at } });
      expect(refused.body).toContain(`already issued to staff ${member.staffId} at ${at}`);
      expect(refused.body).not.toContain(oneTimePassword);
    }
    expect((await resetAudit()).length).toBe(auditBefore + 1);
    const email = await emailOf(member.staffId);
    const signedIn = await login(email, oneTimePassword);
    expect(signedIn.statusCode, signedIn.body).toBe(200);
    expect(signedIn.json()).toMatchObject({ session: 'password_change' });

    // A minute on, while unused, the admin may issue another (the first was lost): the first stops working.
    await runAsOwner(
      database.ownerUrl,
      "update staff_users set password_reset_at = password_reset_at - interval '61 seconds' where tenant_id = $1 and staff_id = $2",
      [tenant.tenantId, member.staffId],
    );
    const again = await reset(member.staffId);
    expect(again.statusCode, again.body).toBe(200);
    const second = again.json<{ oneTimePassword: string }>().oneTimePassword;
    expect((await login(email, oneTimePassword)).statusCode).toBe(401);

    // Used (changed by the person), a new reset is taken at once.
    const session = await login(email, second);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: {
        cookie: String(session.headers['set-cookie']).split(';')[0] ?? '',
        'x-csrf-token': session.json<{ csrfToken: string }>().csrfToken,
      },
      payload: { currentPassword: second, newPassword: 'Zomer-Router-Kortrijk-Lift' },
    });
    expect(changed.statusCode, changed.body).toBe(204);
    expect((await reset(member.staffId)).statusCode).toBe(200);
  });
});

import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, runAsOwner, type TestDatabase } from '../../../test/database.js';
import { createTestApp, loginAs, totpCode } from '../../../test/http.js';
import { chainPendingAudit, createPolicyTenant, createTestKernel, fixedClock } from '../../../test/kernel.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tenant } from '../tenants/index.js';
import { STAFF_LOGIN_LIMITS } from './login-limits.js';
import { LOCKOUT_MS, LOCKOUT_THRESHOLD } from './auth.service.js';
import { mfaRequiredRoles } from './staff.policy.js';
import { createStaffUser, hashPassword } from './staff.service.js';

let database: TestDatabase;
let kernel: Kernel;
let app: FastifyInstance;
let voiceking: Tenant;
let voxtra: Tenant;
const clock = fixedClock(new Date('2026-03-02T09:00:00Z'));
let addressCounter = 0;
/** Each test logs in from its own address, so the per-address limiter of one does not touch another. */
const newAddress = (): string => `10.0.${Math.floor(addressCounter / 250)}.${(addressCounter++ % 250) + 1}`;

beforeAll(async () => {
  database = await createTestDatabase();
  kernel = createTestKernel(database, clock);
  app = await createTestApp(kernel);
  voiceking = await createPolicyTenant(kernel, 'voiceking');
  voxtra = await createPolicyTenant(kernel, 'voxtra');
});
afterAll(async () => {
  await app.close();
  await database.close();
});

const cookieOf = (response: LightMyRequestResponse): string =>
  String(response.headers['set-cookie']).split(';')[0] ?? '';

async function newStaff(
  tenant: Tenant,
  role: string,
): Promise<{ email: string; password: string; staffId: number }> {
  const email = `${role}-${Math.random().toString(36).slice(2, 8)}@staff.example`;
  const created = await createStaffUser(
    kernel,
    tenant.tenantId,
    { kind: 'system', job: 'test' },
    { email, displayName: role, role },
  );
  return { email, password: created.oneTimePassword, staffId: created.staffId };
}

function login(tenant: Tenant, email: string, password: string, remoteAddress = '127.0.0.1') {
  return app.inject({
    method: 'POST',
    url: '/api/v1/auth/login',
    remoteAddress,
    payload: { tenant: tenant.slug, email, password },
  });
}

/**
 * A new support user signed in from an address of its own, and that session's password change
 * (with the one-time password as the current one unless another is given).
 */
async function signedInSupport() {
  const staff = await newStaff(voiceking, 'support');
  const signedIn = await login(voiceking, staff.email, staff.password, newAddress());
  const headers = {
    cookie: cookieOf(signedIn),
    'x-csrf-token': signedIn.json<{ csrfToken: string }>().csrfToken,
  };
  const changePassword = (newPassword: string, currentPassword = staff.password) =>
    app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers,
      payload: { currentPassword, newPassword },
    });
  return { staff, changePassword };
}

/** A new password refused with a 400 naming the rule, the password itself not echoed. */
function expectPasswordRefused(answer: LightMyRequestResponse, password: string, rule: string): void {
  expect(answer.statusCode, password).toBe(400);
  expect(answer.json(), password).toMatchObject({
    code: 'validation_failed',
    details: { rule, issues: [{ path: 'body/newPassword' }] },
  });
  expect(answer.body).not.toContain(password);
}

function withoutRequestId(response: LightMyRequestResponse): unknown {
  const body = response.json<{ requestId?: string; instance?: string }>();
  delete body.requestId;
  delete body.instance;
  return body;
}

async function auditOf(
  tenant: Tenant,
): Promise<{ action: string; decision: string; reason: string | null }[]> {
  // A gated read's entry is chained after the call returns (decision 0480): chain first.
  await chainPendingAudit(kernel, tenant.tenantId);
  const result = await runAsOwner<{ action: string; decision: string; reason: string | null }>(
    database.ownerUrl,
    'select action, decision, reason from audit_log where tenant_id = $1 order by seq',
    [tenant.tenantId],
  );
  return result.rows;
}

describe('staff passwords and second factor', () => {
  it('VK-8: passwords are stored as argon2id hashes, never in clear', async () => {
    const staff = await newStaff(voiceking, 'sales');
    const rows = await runAsOwner<{ password_hash: string }>(
      database.ownerUrl,
      'select password_hash from staff_users where tenant_id = $1 and staff_id = $2',
      [voiceking.tenantId, staff.staffId],
    );
    const hash = rows.rows[0]?.password_hash ?? '';
    expect(hash).toMatch(/^\$argon2id\$v=19\$m=19456,t=2,p=1\$/);
    expect(hash).not.toContain(staff.password);
    const response = await login(voiceking, staff.email, staff.password);
    expect(response.statusCode).toBe(200);
    expect(response.json()).toMatchObject({
      session: 'password_change',
      role: 'sales',
      mustChangePassword: true,
    });
  });

  it('VK-8: a one-time password opens only the password change; afterwards the session reaches the API', async () => {
    const staff = await newStaff(voiceking, 'sales');
    const response = await login(voiceking, staff.email, staff.password);
    const headers = {
      cookie: cookieOf(response),
      'x-csrf-token': response.json<{ csrfToken: string }>().csrfToken,
    };
    const refused = await app.inject({
      method: 'GET',
      url: '/api/v1/people',
      headers: { ...headers, 'x-kluis-purpose': 'order_processing' },
    });
    expect(refused.statusCode).toBe(403);
    expect(refused.json<{ detail: string }>().detail).toMatch(/change your one-time password/);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers,
      payload: { currentPassword: staff.password, newPassword: 'a much better password 2026' },
    });
    expect(changed.statusCode).toBe(204);
    const allowed = await app.inject({
      method: 'GET',
      url: '/api/v1/people',
      headers: { ...headers, 'x-kluis-purpose': 'order_processing' },
    });
    expect(allowed.statusCode).toBe(200);
  });

  it('VK-7: the roles that need a second factor come from the policy (credentials, rights requests, staff admin, security.mfa)', async () => {
    const { policy: voxtraPolicy } = await kernel.policies.current(voxtra.tenantId);
    const { policy: voicekingPolicy } = await kernel.policies.current(voiceking.tenantId);
    // Voxtra's statement promises two-factor authentication to all staff (security.mfa: all_staff).
    expect([...mfaRequiredRoles(voxtraPolicy)].sort()).toEqual([
      'admin',
      'billing',
      'privacy_officer',
      'sales',
      'support',
      'technician',
    ]);
    expect([...mfaRequiredRoles(voicekingPolicy)].sort()).toEqual(['admin', 'privacy_officer']);
  });

  it('VK-8: a role that needs a second factor cannot use the API before enrolling; enrolment gives an otpauth URI, then recovery codes', async () => {
    const staff = await newStaff(voxtra, 'technician');
    const first = await login(voxtra, staff.email, staff.password);
    expect(first.json()).toMatchObject({ session: 'mfa_enrolment' });
    const restricted = {
      cookie: cookieOf(first),
      'x-csrf-token': first.json<{ csrfToken: string }>().csrfToken,
    };

    const refused = await app.inject({ method: 'GET', url: '/api/v1/policy/register', headers: restricted });
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden', details: { stage: 'mfa_enrolment' } });
    const me = await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: restricted });
    expect(me.json()).toMatchObject({ session: 'mfa_enrolment', role: 'technician' });

    const enrol = await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/enrol', headers: restricted });
    expect(enrol.statusCode).toBe(200);
    const { otpauthUri, secret } = enrol.json<{ otpauthUri: string; secret: string }>();
    expect(otpauthUri).toMatch(/^otpauth:\/\/totp\/.+\?.*secret=/);
    expect(otpauthUri).toContain(`secret=${secret}`);
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);

    // At rest the secret is ciphertext under the staff member's data key.
    const stored = await runAsOwner<{ totp_secret: Buffer }>(
      database.ownerUrl,
      'select totp_secret from staff_users where tenant_id = $1 and staff_id = $2',
      [voxtra.tenantId, staff.staffId],
    );
    const ciphertext = stored.rows[0]?.totp_secret ?? Buffer.alloc(0);
    expect(ciphertext.length).toBeGreaterThan(secret.length);
    expect(ciphertext.toString('latin1')).not.toContain(secret);

    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/confirm',
      headers: restricted,
      payload: { code: '000000' === (await totpCode(kernel, secret)) ? '111111' : '000000' },
    });
    expect(wrong.statusCode).toBe(400);
    const confirm = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/confirm',
      headers: restricted,
      payload: { code: await totpCode(kernel, secret) },
    });
    expect(confirm.statusCode).toBe(200);
    const confirmed = confirm.json<{ recoveryCodes: string[]; session: string; csrfToken: string }>();
    expect(confirmed.session).toBe('full');
    expect(confirmed.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.recoveryCodes).size).toBe(10);

    // The enrolment session is replaced; the new one reaches the API.
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: restricted })).statusCode,
    ).toBe(401);
    const full = { cookie: cookieOf(confirm) };
    // Still on the one-time password: the second factor is set, the password change is next.
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: full })).json()).toMatchObject(
      {
        session: 'password_change',
      },
    );
    expect(await auditOf(voxtra)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ action: 'mfa.enrol.start', decision: 'allowed' }),
        expect.objectContaining({ action: 'mfa.enrol', decision: 'allowed' }),
      ]),
    );
  });

  it('VK-8: with a second factor login takes two steps, and the same TOTP code is refused a second time', async () => {
    const enrolled = await loginAs(app, kernel, voiceking, 'privacy_officer');
    const secret = enrolled.totpSecret ?? '';
    const rows = await runAsOwner<{ email: string }>(
      database.ownerUrl,
      'select email from staff_users where tenant_id = $1 and staff_id = $2',
      [voiceking.tenantId, enrolled.staffId],
    );
    const email = rows.rows[0]?.email ?? '';
    // loginAs confirmed with the current code; move to the next time step.
    clock.advance(30_000);
    const password = await setPassword(enrolled, 'correct horse battery staple');

    const step1 = await login(voiceking, email, password);
    expect(step1.json()).toMatchObject({ session: 'mfa_pending' });
    const pending = {
      cookie: cookieOf(step1),
      'x-csrf-token': step1.json<{ csrfToken: string }>().csrfToken,
    };
    const early = await app.inject({ method: 'GET', url: '/api/v1/policy/register', headers: pending });
    expect(early.statusCode).toBe(403);
    expect(early.json()).toMatchObject({ details: { stage: 'mfa_pending' } });

    const code = await totpCode(kernel, secret);
    const step2 = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/verify',
      headers: pending,
      payload: { code },
    });
    expect(step2.statusCode).toBe(200);
    expect(step2.json()).toMatchObject({ session: 'full', role: 'privacy_officer' });
    const full = { cookie: cookieOf(step2) };
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/policy/register', headers: full })).statusCode,
    ).toBe(200);
    // The pending cookie was replaced by the full one.
    expect((await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: pending })).statusCode).toBe(
      401,
    );

    // Someone who saw the code replays it within its window: refused.
    const again = await login(voiceking, email, password);
    const replay = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/verify',
      headers: { cookie: cookieOf(again), 'x-csrf-token': again.json<{ csrfToken: string }>().csrfToken },
      payload: { code },
    });
    expect(replay.statusCode).toBe(401);
    expect(replay.json()).toMatchObject({ code: 'unauthenticated', detail: 'wrong or used code' });

    clock.advance(30_000);
    const next = await login(voiceking, email, password);
    const fresh = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/verify',
      headers: { cookie: cookieOf(next), 'x-csrf-token': next.json<{ csrfToken: string }>().csrfToken },
      payload: { code: await totpCode(kernel, secret) },
    });
    expect(fresh.statusCode).toBe(200);
  });

  it('VK-8: a recovery code logs in once and only once', async () => {
    const staff = await newStaff(voxtra, 'admin');
    const first = await login(voxtra, staff.email, staff.password);
    const restricted = {
      cookie: cookieOf(first),
      'x-csrf-token': first.json<{ csrfToken: string }>().csrfToken,
    };
    const { secret } = (
      await app.inject({ method: 'POST', url: '/api/v1/auth/mfa/enrol', headers: restricted })
    ).json<{
      secret: string;
    }>();
    const confirm = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/mfa/confirm',
      headers: restricted,
      payload: { code: await totpCode(kernel, secret) },
    });
    const recoveryCode = confirm.json<{ recoveryCodes: string[] }>().recoveryCodes[3] ?? '';
    expect(recoveryCode).toMatch(/^[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}-[A-Z2-7]{4}$/);
    const hashes = await runAsOwner<{ hashes: Buffer[] }>(
      database.ownerUrl,
      'select recovery_code_hashes as hashes from staff_users where tenant_id = $1 and staff_id = $2',
      [voxtra.tenantId, staff.staffId],
    );
    expect(hashes.rows[0]?.hashes).toHaveLength(10);

    const useCode = async (): Promise<number> => {
      const step1 = await login(voxtra, staff.email, staff.password);
      const step2 = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/verify',
        headers: { cookie: cookieOf(step1), 'x-csrf-token': step1.json<{ csrfToken: string }>().csrfToken },
        payload: { code: recoveryCode.toLowerCase() },
      });
      return step2.statusCode;
    };
    expect(await useCode()).toBe(200);
    expect(await useCode()).toBe(401);
    const after = await runAsOwner<{ hashes: Buffer[] }>(
      database.ownerUrl,
      'select recovery_code_hashes as hashes from staff_users where tenant_id = $1 and staff_id = $2',
      [voxtra.tenantId, staff.staffId],
    );
    expect(after.rows[0]?.hashes).toHaveLength(9);
  });
});

async function setPassword(
  session: { cookie: string; csrfToken: string; staffId: number },
  newPassword: string,
) {
  // loginAs does not hand out the one-time password; set a known one with the service's own hash.
  await runAsOwner(database.ownerUrl, 'update staff_users set password_hash = $1 where staff_id = $2', [
    await hashPassword(newPassword),
    session.staffId,
  ]);
  return newPassword;
}

describe('lockout and rate limits', () => {
  it('VK-8: wrong passwords from many addresses slow an account down but never lock it; an unknown account is slowed alike, and the right password gets in after the wait', async () => {
    const staff = await newStaff(voiceking, 'billing');
    const unknownEmail = `nobody-${Math.random().toString(36).slice(2, 8)}@staff.example`;
    const first = await login(voiceking, unknownEmail, 'whatever-password', newAddress());
    for (let i = 1; i < STAFF_LOGIN_LIMITS.account.max; i += 1)
      await login(voiceking, unknownEmail, `whatever-${i}`, newAddress());
    for (let i = 0; i < STAFF_LOGIN_LIMITS.account.max; i += 1) {
      const wrong = await login(voiceking, staff.email, `wrong-${i}`, newAddress());
      expect(wrong.statusCode).toBe(401);
      expect(withoutRequestId(wrong)).toEqual(withoutRequestId(first));
    }
    // The next attempt must wait (1 s, doubling): the same answer for a known and an unknown account.
    const slowed = await login(voiceking, staff.email, staff.password, newAddress());
    const slowedUnknown = await login(voiceking, unknownEmail, 'whatever-password', newAddress());
    expect(slowed.statusCode).toBe(429);
    expect(slowed.headers['retry-after']).toBe('1');
    expect(withoutRequestId(slowed)).toEqual(withoutRequestId(slowedUnknown));
    expect(slowed.json()).toMatchObject({ code: 'rate_limited' });

    clock.advance(1000);
    const right = await login(voiceking, staff.email, staff.password, newAddress());
    expect(right.statusCode).toBe(200);
    // A success forgets the count: the next wrong password is an ordinary 401 again.
    expect((await login(voiceking, staff.email, 'wrong-again', newAddress())).statusCode).toBe(401);
    const locked = await runAsOwner<{ locked_until: Date | null }>(
      database.ownerUrl,
      'select locked_until from staff_users where staff_id = $1',
      [staff.staffId],
    );
    expect(locked.rows[0]?.locked_until).toBeNull();
    expect(await auditOf(voiceking)).toEqual(
      expect.arrayContaining([expect.objectContaining({ action: 'login.rate-limit', decision: 'denied' })]),
    );
  });

  it('VK-8: wrong second-factor codes lock the account; only a correct password is told "locked until …", a wrong one gets the ordinary answer', async () => {
    const enrolled = await loginAs(app, kernel, voxtra, 'privacy_officer');
    const password = await setPassword(enrolled, 'another long password');
    const email = (
      await runAsOwner<{ email: string }>(
        database.ownerUrl,
        'select email from staff_users where staff_id = $1',
        [enrolled.staffId],
      )
    ).rows[0]?.email;
    const step1 = await login(voxtra, email ?? '', password, newAddress());
    const pending = {
      cookie: cookieOf(step1),
      'x-csrf-token': step1.json<{ csrfToken: string }>().csrfToken,
    };
    const good = await totpCode(kernel, enrolled.totpSecret ?? '', 60);
    const bad = good === '123456' ? '654321' : '123456';
    for (let i = 0; i < LOCKOUT_THRESHOLD; i += 1) {
      const response = await app.inject({
        method: 'POST',
        url: '/api/v1/auth/mfa/verify',
        remoteAddress: newAddress(),
        headers: pending,
        payload: { code: bad },
      });
      // The pending session is dropped at the lock, so the last attempt finds none.
      expect(response.statusCode).toBe(401);
    }
    const unknown = await login(voxtra, 'nobody@staff.example', 'whatever-password', newAddress());
    const wrong = await login(voxtra, email ?? '', 'not the password', newAddress());
    expect(wrong.statusCode).toBe(401);
    expect(withoutRequestId(wrong)).toEqual(withoutRequestId(unknown));
    const right = await login(voxtra, email ?? '', password, newAddress());
    expect(right.statusCode).toBe(423);
    expect(right.json()).toMatchObject({
      code: 'account_locked',
      detail: expect.stringContaining('locked until 2026-03-02 ') as string,
    });
    expect(Number(right.headers['retry-after'])).toBeGreaterThan(0);
    expect(right.headers['set-cookie']).toBeUndefined();

    clock.advance(LOCKOUT_MS + 1000);
    expect((await login(voxtra, email ?? '', password, newAddress())).statusCode).toBe(200);
    expect(await auditOf(voxtra)).toEqual(
      expect.arrayContaining([
        expect.objectContaining({
          action: 'login.second-factor',
          decision: 'denied',
          reason: 'account_locked_now',
        }),
        expect.objectContaining({ action: 'login', decision: 'denied', reason: 'account_locked' }),
      ]),
    );
  });

  it("VK-8: one address's failures slow down only that tenant's logins from it, briefly; users of other tenants behind it log in at once", async () => {
    const address = newAddress();
    for (let i = 0; i < STAFF_LOGIN_LIMITS.address.max; i += 1) {
      const response = await login(voiceking, `guess-${i}@staff.example`, 'guess', address);
      expect(response.statusCode).toBe(401);
    }
    const slowed = await login(voiceking, 'guess-more@staff.example', 'guess', address);
    expect(slowed.statusCode).toBe(429);
    expect(slowed.json()).toMatchObject({ code: 'rate_limited' });
    const wait = Number(slowed.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(30);
    const other = await newStaff(voxtra, 'sales');
    expect((await login(voxtra, other.email, other.password, address)).statusCode).toBe(200);
    const colleague = await newStaff(voiceking, 'sales');
    clock.advance(wait * 1000);
    expect((await login(voiceking, colleague.email, colleague.password, address)).statusCode).toBe(200);
  });

  it('the client address is the socket address unless KLUIS_TRUST_PROXY names the proxy: a forged X-Forwarded-For escapes nothing', async () => {
    const socket = newAddress();
    for (let i = 0; i < STAFF_LOGIN_LIMITS.address.max; i += 1) {
      await app.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: socket,
        headers: { 'x-forwarded-for': `198.51.100.${i + 1}` },
        payload: { tenant: voxtra.slug, email: `forged-${i}@staff.example`, password: 'guess' },
      });
    }
    const forged = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/login',
      remoteAddress: socket,
      headers: { 'x-forwarded-for': '198.51.100.200' },
      payload: { tenant: voxtra.slug, email: 'forged-x@staff.example', password: 'guess' },
    });
    expect(forged.statusCode).toBe(429);

    // Behind a trusted proxy each client is counted by the address the proxy reports.
    const proxied = await createTestApp(kernel, { trustProxy: '10.9.9.9' });
    const viaProxy = (client: string, email: string, password: string) =>
      proxied.inject({
        method: 'POST',
        url: '/api/v1/auth/login',
        remoteAddress: '10.9.9.9',
        headers: { 'x-forwarded-for': client },
        payload: { tenant: voxtra.slug, email, password },
      });
    for (let i = 0; i < STAFF_LOGIN_LIMITS.address.max; i += 1)
      await viaProxy('203.0.113.7', `proxied-${i}@staff.example`, 'guess');
    expect((await viaProxy('203.0.113.7', 'proxied-x@staff.example', 'guess')).statusCode).toBe(429);
    const staff = await newStaff(voxtra, 'sales');
    expect((await viaProxy('203.0.113.8', staff.email, staff.password)).statusCode).toBe(200);
    await proxied.close();
  });
});

describe('sessions', () => {
  it("VK-7: a disabled user's session stops working at once", async () => {
    const admin = await loginAs(app, kernel, voiceking, 'admin');
    const sales = await loginAs(app, kernel, voiceking, 'sales');
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: sales.cookie } }))
        .statusCode,
    ).toBe(200);
    const disable = await app.inject({
      method: 'POST',
      url: `/api/v1/staff/${sales.staffId}/disable`,
      headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken },
    });
    expect(disable.statusCode).toBe(200);
    expect(disable.json()).toMatchObject({ status: 'disabled' });
    const after = await app.inject({
      method: 'GET',
      url: '/api/v1/auth/me',
      headers: { cookie: sales.cookie },
    });
    expect(after.statusCode).toBe(401);
  });

  it('VK-8: a new staff password is refused when common or breached, one to three characters repeated, the current one, or holding the e-mail, the tenant’s or the controller’s name; the 400 names the rule and nothing changes; full-width letters and `!`, `|`, `$`, `+` for letters do not get past it (NIST SP 800-63B 5.1.1.2)', async () => {
    const { staff, changePassword: change } = await signedInSupport();
    const local = staff.email.split('@')[0] ?? '';
    const refused: [string, string][] = [
      ['Password123!', 'password_common'],
      ['P@ssw0rd2026!', 'password_common'],
      ['qwerty123456', 'password_common'],
      ['x'.repeat(150), 'password_repeated_character'],
      ['abababababababab', 'password_repeated_character'],
      ['Xyz'.repeat(5), 'password_repeated_character'],
      ['ＰＡＳＳＷＯＲＤ１２３４', 'password_common'],
      ['$ecret-2026!!', 'password_common'],
      ['Tr+ustno1-2026', 'password_common'],
      ['v0!c3k!ng-abc-def', 'password_context'],
      ['V0|ceK|ng-2026-x', 'password_context'],
      ['ｖｏｉｃｅｋｉｎｇ-2026', 'password_context'],
      ['x'.repeat(1024), 'password_too_long'],
      ['Kort-pw-9', 'password_too_short'],
      [staff.password, 'password_unchanged'],
      [`${voiceking.slug}-2026!`, 'password_context'],
      ['Voice King 2026 rocks!', 'password_context'],
      [`${local}-is-my-password`, 'password_context'],
    ];
    for (const [password, rule] of refused) expectPasswordRefused(await change(password), password, rule);
    // Nothing changed: the one-time password still logs in, and a good password is taken.
    expect((await login(voiceking, staff.email, staff.password, newAddress())).statusCode).toBe(200);
    expect((await change('Zomer-Router-Kortrijk-Lift')).statusCode).toBe(204);
    expect((await login(voiceking, staff.email, 'Zomer-Router-Kortrijk-Lift', newAddress())).statusCode).toBe(
      200,
    );
  });

  it('VK-8: a new staff password that is one part repeated is judged by that part: a word, a common password, the current one or the tenant’s name repeated is refused as repeated (also with separators, capitals or `@` for `a`); a good passphrase said twice is taken (attack S23B-1)', async () => {
    const { staff, changePassword: change } = await signedInSupport();
    const refused = [
      'dragondragondragon',
      'qwertyqwertyqwerty',
      'dragondragondrag',
      'Dragon-Dragon-Dragon!',
      'Dr@gondragonDr4gon',
      'Password123!Password123!',
      'sunshine2026sunshine2026',
      `${staff.password}${staff.password}`,
      `${voiceking.slug}${voiceking.slug}${voiceking.slug}`,
    ];
    for (const password of refused)
      expectPasswordRefused(await change(password), password, 'password_repeated_character');
    // Nothing changed; a passphrase that passes on its own passes said twice.
    expect((await login(voiceking, staff.email, staff.password, newAddress())).statusCode).toBe(200);
    const twice = 'Zomer-Router-Kortrijk-Lift '.repeat(2).trim();
    expect((await change(twice)).statusCode).toBe(204);
    expect((await login(voiceking, staff.email, twice, newAddress())).statusCode).toBe(200);
  });

  it('VK-8: a new staff password that is a repeated part with a few digits, symbols or one letter before or after it, or with digits between the repetitions, is refused as repeated; `dragonnogarddragon` and a good passphrase said twice with a year added are taken (attack S24-1)', async () => {
    const { staff, changePassword } = await signedInSupport();
    let current = staff.password;
    const change = (newPassword: string) => changePassword(newPassword, current);
    const refused = [
      'dragondragondragon1',
      '1dragondragondragon',
      'dragondragondragon2026',
      '2026dragondragondragon',
      'dragon1dragon2dragon3',
      'aaaaaaaaaaaab',
      '!dragondragondragon2026',
      'Dragon-Dragon-Dragon-2026',
    ];
    for (const password of refused)
      expectPasswordRefused(await change(password), password, 'password_repeated_character');
    // Nothing changed.
    expect((await login(voiceking, staff.email, staff.password, newAddress())).statusCode).toBe(200);
    for (const taken of ['dragonnogarddragon', `${'Zomer-Router-Kortrijk-Lift '.repeat(2).trim()}2026`]) {
      expect((await change(taken)).statusCode, taken).toBe(204);
      expect((await login(voiceking, staff.email, taken, newAddress())).statusCode).toBe(200);
      current = taken;
    }
  });

  it('VK-8: five staff password changes sent at once with the same current password: one 204, the others 409 (or 403, the current one gone) and nothing of theirs written; only the saved one logs in (attack S23-2)', async () => {
    const { staff, changePassword } = await signedInSupport();
    const chosen = Array.from({ length: 5 }, (_, i) => `Zomer-Router-Kortrijk-${i}`);
    const answers = await Promise.all(chosen.map((newPassword) => changePassword(newPassword)));
    // One is saved; the others lost under the lock (409) or, sent a moment after it was saved,
    // found their current password no longer current (403).
    const statuses = answers.map((answer) => answer.statusCode);
    expect(statuses.filter((status) => status === 204)).toHaveLength(1);
    expect(
      statuses.filter((status) => status !== 204).every((status) => status === 409 || status === 403),
    ).toBe(true);
    for (const lost of answers.filter((answer) => answer.statusCode === 409))
      expect(lost.json()).toMatchObject({
        code: 'conflict',
        details: { rule: 'password_changed_meanwhile' },
      });
    const saved = chosen[answers.findIndex((answer) => answer.statusCode === 204)] ?? '';
    expect((await login(voiceking, staff.email, saved, newAddress())).statusCode).toBe(200);
    expect((await login(voiceking, staff.email, staff.password, newAddress())).statusCode).toBe(401);
  });

  it('VK-8: a password change needs the current password, clears must-change and ends the other sessions', async () => {
    const staff = await newStaff(voiceking, 'support');
    const a = await login(voiceking, staff.email, staff.password);
    const b = await login(voiceking, staff.email, staff.password);
    const sessionA = { cookie: cookieOf(a), 'x-csrf-token': a.json<{ csrfToken: string }>().csrfToken };
    const wrong = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: sessionA,
      payload: { currentPassword: 'not-it', newPassword: 'a much better passphrase' },
    });
    expect(wrong.statusCode).toBe(403);
    const weak = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: sessionA,
      payload: { currentPassword: staff.password, newPassword: 'short' },
    });
    expect(weak.statusCode).toBe(400);
    const noCsrf = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: { cookie: sessionA.cookie },
      payload: { currentPassword: staff.password, newPassword: 'a much better passphrase' },
    });
    expect(noCsrf.statusCode).toBe(403);
    const changed = await app.inject({
      method: 'POST',
      url: '/api/v1/auth/password',
      headers: sessionA,
      payload: { currentPassword: staff.password, newPassword: 'a much better passphrase' },
    });
    expect(changed.statusCode).toBe(204);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: sessionA.cookie } }))
        .statusCode,
    ).toBe(200);
    expect(
      (await app.inject({ method: 'GET', url: '/api/v1/auth/me', headers: { cookie: cookieOf(b) } }))
        .statusCode,
    ).toBe(401);
    expect((await login(voiceking, staff.email, staff.password)).statusCode).toBe(401);
    const fresh = await login(voiceking, staff.email, 'a much better passphrase');
    expect(fresh.json()).toMatchObject({ mustChangePassword: false });
  });

  it('a login reads the account it names through the sign-in door: asked of the gate and audited as the system actor staff-auth; a refusal answers like a wrong password', async () => {
    const staff = await newStaff(voxtra, 'sales');
    const before = (await auditOf(voxtra)).length;
    expect((await login(voxtra, staff.email, staff.password, newAddress())).statusCode).toBe(200);
    const entries = await runAsOwner<{
      actor_kind: string;
      actor_id: string;
      action: string;
      categories: string[];
    }>(
      database.ownerUrl,
      'select actor_kind, actor_id, action, categories from audit_log where tenant_id = $1 order by seq offset $2',
      [voxtra.tenantId, before],
    );
    expect(entries.rows.slice(0, 2)).toEqual([
      {
        actor_kind: 'system',
        actor_id: 'staff-auth',
        action: 'read',
        categories: ['user.authorization.credentials'],
      },
      expect.objectContaining({ actor_kind: 'staff', action: 'login' }),
    ]);
    // A person whose processing is restricted (Art. 18): the door is refused, the answer is the ordinary one.
    await runAsOwner(
      database.ownerUrl,
      'update data_subjects set restricted_at = now() where tenant_id = $1 and subject_id = (select subject_id from staff_users where tenant_id = $1 and staff_id = $2)',
      [voxtra.tenantId, staff.staffId],
    );
    const refused = await login(voxtra, staff.email, staff.password, newAddress());
    const wrong = await login(voxtra, staff.email, 'not the password at all', newAddress());
    expect(refused.statusCode).toBe(401);
    expect(withoutRequestId(refused)).toEqual(withoutRequestId(wrong));
    expect(
      (await auditOf(voxtra)).some(
        (entry) => entry.decision === 'denied' && entry.reason === 'subject_restricted',
      ),
    ).toBe(true);
  });
});

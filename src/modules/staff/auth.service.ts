import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import type { Kernel } from '../../kernel/kernel.js';
import { withTenant } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { findTenantBySlug } from '../tenants/index.js';
import { hashPassword, STAFF_PURPOSE } from './staff.service.js';

/** Idle and absolute session lifetimes (decision 0007). */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;

export interface StaffPrincipal {
  tenantId: number;
  tenantSlug: string;
  staffId: number;
  role: string;
}

export interface LoginResult {
  principal: StaffPrincipal;
  /** `<tenantId>.<token>`: goes in an HttpOnly cookie, never in a log. */
  sessionToken: string;
  /** Double-submit CSRF token the client echoes in `x-csrf-token` on writes. */
  csrfToken: string;
  mustChangePassword: boolean;
}

const AUTH_ACTOR = { kind: 'system', id: 'staff-auth' } as const;
// Verifying against a real-looking hash when the account does not exist keeps the timing equal.
const DUMMY_HASH_PROMISE = hashPassword(randomBytes(16).toString('hex'));

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/**
 * Password login. The answer is the same whether the e-mail is unknown, the account disabled or
 * the password wrong (`unauthenticated`), so the form reveals nothing. Both outcomes are audited.
 */
export async function loginStaff(
  kernel: Kernel,
  input: { tenant: string; email: string; password: string },
): Promise<LoginResult> {
  const tenant = await findTenantBySlug(kernel.db, input.tenant).catch(() => undefined);
  const email = input.email.trim().toLowerCase();
  const account = tenant
    ? await withTenant(kernel.db, tenant.tenantId, (tx) =>
        tx
          .selectFrom('staff_users')
          .select(['staff_id', 'subject_id', 'role', 'password_hash', 'status', 'must_change_password'])
          .where('email', '=', email)
          .executeTakeFirst(),
      )
    : undefined;
  const passwordOk = await verify(account?.password_hash ?? (await DUMMY_HASH_PROMISE), input.password);
  if (!tenant || !account || !passwordOk || account.status !== 'active' || account.subject_id === null) {
    if (tenant) {
      await kernel.transact(tenant.tenantId, (atx) => {
        atx.audit.record({
          actor: AUTH_ACTOR,
          role: null,
          purpose: STAFF_PURPOSE,
          action: 'login',
          ...(account?.subject_id ? { subjectIds: [account.subject_id] } : {}),
          decision: 'denied',
          reason: 'bad_credentials',
        });
        return Promise.resolve();
      });
    }
    throw new AppError('unauthenticated', 'login failed', {
      publicMessage: 'unknown account or wrong password',
    });
  }
  const sessionToken = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const now = kernel.clock.now();
  await kernel.transact(tenant.tenantId, async (atx) => {
    await atx.tx
      .insertInto('staff_sessions')
      .values({
        tenant_id: tenant.tenantId,
        session_hash: sha256(sessionToken),
        staff_id: account.staff_id,
        csrf_hash: sha256(csrfToken),
        created_at: now,
        last_seen_at: now,
        expires_at: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
      })
      .execute();
    atx.audit.record({
      actor: { kind: 'staff', id: String(account.staff_id) },
      role: account.role,
      purpose: STAFF_PURPOSE,
      action: 'login',
      subjectIds: [account.subject_id ?? 0],
      decision: 'allowed',
    });
  });
  return {
    principal: {
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      staffId: account.staff_id,
      role: account.role,
    },
    sessionToken: `${tenant.tenantId}.${sessionToken}`,
    csrfToken,
    mustChangePassword: account.must_change_password,
  };
}

/**
 * Resolves a session cookie to the staff member behind it; refuses expired sessions (idle or
 * absolute) and disabled accounts at once. Moves the idle clock on.
 */
export async function authenticateSession(
  kernel: Kernel,
  cookie: string,
  csrfHeader?: string,
): Promise<StaffPrincipal> {
  const match = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!match) throw new AppError('unauthenticated', 'malformed session');
  const tenantId = Number(match[1]);
  const token = match[2] ?? '';
  const now = kernel.clock.now();
  const found = await withTenant(kernel.db, tenantId, async (tx) => {
    const row = await tx
      .selectFrom('staff_sessions as s')
      .innerJoin('staff_users as u', (join) =>
        join.onRef('u.tenant_id', '=', 's.tenant_id').onRef('u.staff_id', '=', 's.staff_id'),
      )
      .innerJoin('tenants as t', 't.tenant_id', 's.tenant_id')
      .select(['s.staff_id', 's.csrf_hash', 's.last_seen_at', 's.expires_at', 'u.role', 'u.status', 't.slug'])
      .where('s.session_hash', '=', sha256(token))
      .executeTakeFirst();
    if (!row) return undefined;
    const expired = row.expires_at <= now || now.getTime() - row.last_seen_at.getTime() > SESSION_IDLE_MS;
    if (expired || row.status !== 'active') {
      await tx.deleteFrom('staff_sessions').where('session_hash', '=', sha256(token)).execute();
      return undefined;
    }
    await tx
      .updateTable('staff_sessions')
      .set({ last_seen_at: now })
      .where('session_hash', '=', sha256(token))
      .execute();
    return row;
  }).catch(() => undefined);
  if (!found) throw new AppError('unauthenticated', 'no valid session');
  if (csrfHeader !== undefined) {
    const given = sha256(csrfHeader);
    if (!timingSafeEqual(given, found.csrf_hash))
      throw new AppError('forbidden', 'CSRF token mismatch', {
        publicMessage: 'missing or wrong CSRF token',
      });
  }
  return { tenantId, tenantSlug: found.slug, staffId: found.staff_id, role: found.role };
}

export async function logoutSession(kernel: Kernel, cookie: string): Promise<void> {
  const match = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!match) return;
  await withTenant(kernel.db, Number(match[1]), (tx) =>
    tx
      .deleteFrom('staff_sessions')
      .where('session_hash', '=', sha256(match[2] ?? ''))
      .execute(),
  );
}

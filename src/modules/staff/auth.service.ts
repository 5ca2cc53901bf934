import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { verify } from '@node-rs/argon2';
import type { AuditAction, AuditedTx, AuditReasonCode } from '../../kernel/audit/index.js';
import { authorizeSignIn } from '../../kernel/gate/access.js';
import { AccessDenied } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, isAppError } from '../../platform/errors.js';
import { passwordProblem, passwordRefused, type PasswordContext } from '../../platform/password-rules.js';
import {
  locateStaffByEmail,
  selectLoginAccount,
  selectOwnCredentials,
  lockPasswordHash,
  updatePasswordHash,
  type LoginAccountRow,
} from './account.repository.js';
import { checkSecondFactor } from './mfa.service.js';
import type { SessionStage, StoredSessionStage } from './session.tables.js';
import { roleRequiresMfa } from './staff.policy.js';
import { hashPassword, STAFF_PURPOSE } from './staff.service.js';

/** Idle and absolute session lifetimes (decision 0020). */
export const SESSION_IDLE_MS = 30 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 12 * 60 * 60 * 1000;
/** A session waiting for its second factor, or one that may only enrol, lives briefly. */
export const RESTRICTED_SESSION_MS = 10 * 60 * 1000;
/** Lockout: this many failures per account within the window lock it for LOCKOUT_MS. */
export const LOCKOUT_THRESHOLD = 5;
export const LOCKOUT_WINDOW_MS = 15 * 60 * 1000;
export const LOCKOUT_MS = 15 * 60 * 1000;

export interface StaffPrincipal {
  tenantId: number;
  tenantSlug: string;
  /** The staff member; for an API token, the admin accountable for it (decision 0020). */
  staffId: number;
  role: string;
  via: 'session' | 'token';
  /** Always `full` for tokens. */
  stage: SessionStage;
  tokenId?: number;
  /** When this session last proved a second factor (login, enrolment, step-up); null for tokens. */
  secondFactorAt: Date | null;
}

export interface IssuedSession {
  /** `<tenantId>.<token>`: goes in an HttpOnly cookie, never in a log. */
  sessionToken: string;
  /** Double-submit CSRF token the client echoes in `x-csrf-token` on writes. */
  csrfToken: string;
  stage: SessionStage;
}

export interface LoginResult extends IssuedSession {
  principal: StaffPrincipal;
  mustChangePassword: boolean;
}

const AUTH_ACTOR = { kind: 'system', id: 'staff-auth' } as const;
const FAILED = (): AppError =>
  new AppError('unauthenticated', 'login failed', { publicMessage: 'unknown account or wrong password' });
// Verifying against a real-looking hash when the account does not exist keeps the timing equal.
const DUMMY_HASH_PROMISE = hashPassword(randomBytes(16).toString('hex'));

export const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

const COOKIE_PATTERN = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/;

export function parseSessionCookie(cookie: string): { tenantId: number; token: string } | undefined {
  const match = COOKIE_PATTERN.exec(cookie);
  if (!match) return undefined;
  return { tenantId: Number(match[1]), token: match[2] ?? '' };
}

/** Creates a session row in the caller's transaction; the tokens leave only through the result. */
export async function issueSession(
  atx: AuditedTx,
  staffId: number,
  stage: StoredSessionStage,
  now: Date,
  secondFactorAt: Date | null = null,
): Promise<IssuedSession> {
  const sessionToken = randomBytes(32).toString('base64url');
  const csrfToken = randomBytes(32).toString('base64url');
  const lifetime = stage === 'full' ? SESSION_ABSOLUTE_MS : RESTRICTED_SESSION_MS;
  await atx.tx
    .insertInto('staff_sessions')
    .values({
      tenant_id: atx.tenantId,
      session_hash: sha256(sessionToken),
      staff_id: staffId,
      csrf_hash: sha256(csrfToken),
      created_at: now,
      last_seen_at: now,
      expires_at: new Date(now.getTime() + lifetime),
      stage,
      second_factor_at: secondFactorAt,
    })
    .execute();
  return { sessionToken: `${atx.tenantId}.${sessionToken}`, csrfToken, stage };
}

/**
 * Replaces a restricted session by a full one (a new token, so a token seen before the second
 * factor is worth nothing after it). Called once a second factor was proven, which it records.
 */
export async function upgradeSession(
  atx: AuditedTx,
  staffId: number,
  currentCookie: string | undefined,
  now: Date,
): Promise<IssuedSession> {
  const current = currentCookie ? parseSessionCookie(currentCookie) : undefined;
  if (current && current.tenantId === atx.tenantId) {
    await atx.tx
      .deleteFrom('staff_sessions')
      .where('session_hash', '=', sha256(current.token))
      .where('staff_id', '=', staffId)
      .execute();
  }
  return issueSession(atx, staffId, 'full', now, now);
}

/**
 * The account a login names, read before anyone is known: through the gate's sign-in door
 * (system actor `staff-auth`, audited), after locating the account's subject by its e-mail. A
 * refusal (the account's person is restricted, say) reads as an unknown account.
 */
async function readLoginAccount(
  kernel: Kernel,
  tenantId: number,
  email: string,
): Promise<LoginAccountRow | undefined> {
  try {
    return await kernel.transact(tenantId, async (atx) => {
      const [subjectId] = await locateStaffByEmail(atx.tx, email);
      if (subjectId === undefined) return undefined;
      const grant = await authorizeSignIn(kernel, atx, 'staff-auth', {
        purpose: STAFF_PURPOSE,
        action: 'read',
        subjectId,
      });
      return selectLoginAccount(atx.tx, grant, subjectId);
    });
  } catch (error) {
    if (error instanceof AccessDenied) return undefined;
    throw error;
  }
}

/**
 * Audits a failed login step. A wrong second factor or current password (the password was right)
 * counts against the account and locks it when the count reaches LOCKOUT_THRESHOLD within
 * LOCKOUT_WINDOW_MS; a wrong password at login does not: anyone can type one, so it only slows
 * the next attempts down (auth.routes.ts, docs/decisions/0075). Audited in the same transaction.
 */
export async function recordAuthFailure(
  kernel: Kernel,
  tenantId: number,
  account: { staffId: number; subjectId: number | null } | undefined,
  action: AuditAction,
): Promise<void> {
  const now = kernel.clock.now();
  await kernel.transact(tenantId, async (atx) => {
    let reason: AuditReasonCode = 'bad_credentials';
    if (account && action !== 'login') {
      const row = await atx.tx
        .selectFrom('staff_users')
        .select(['failed_logins', 'failed_window_started_at', 'locked_until'])
        .where('staff_id', '=', account.staffId)
        .forUpdate()
        .executeTakeFirst();
      if (row && row.locked_until !== null && row.locked_until > now) {
        reason = 'account_locked';
      } else if (row) {
        const fresh =
          row.failed_window_started_at === null ||
          now.getTime() - row.failed_window_started_at.getTime() >= LOCKOUT_WINDOW_MS;
        const failures = fresh ? 1 : row.failed_logins + 1;
        const locks = failures >= LOCKOUT_THRESHOLD;
        await atx.tx
          .updateTable('staff_users')
          .set({
            failed_logins: locks ? 0 : failures,
            failed_window_started_at: locks ? null : fresh ? now : row.failed_window_started_at,
            locked_until: locks ? new Date(now.getTime() + LOCKOUT_MS) : row.locked_until,
          })
          .where('staff_id', '=', account.staffId)
          .execute();
        if (locks) {
          reason = 'account_locked_now';
          // A locked account keeps no half-finished login.
          await atx.tx
            .deleteFrom('staff_sessions')
            .where('staff_id', '=', account.staffId)
            .where('stage', '=', 'mfa_pending')
            .execute();
        }
      }
    }
    atx.audit.record({
      actor: AUTH_ACTOR,
      role: null,
      purpose: STAFF_PURPOSE,
      action,
      ...(account?.subjectId ? { subjectIds: [account.subjectId] } : {}),
      decision: 'denied',
      reason,
    });
  });
}

function lockedError(lockedUntil: Date, now: Date): AppError {
  const until = `${lockedUntil.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
  return new AppError('account_locked', 'correct password on a locked account', {
    publicMessage: `account locked until ${until} after wrong second-factor codes; an administrator can unlock it (kluis staff unlock)`,
    details: {
      lockedUntil: lockedUntil.toISOString(),
      retryAfterSeconds: Math.max(1, Math.ceil((lockedUntil.getTime() - now.getTime()) / 1000)),
    },
  });
}

async function recordAuthLocked(
  kernel: Kernel,
  tenantId: number,
  account: { staff_id: number; subject_id: number },
): Promise<void> {
  await kernel.transact(tenantId, (atx) => {
    atx.audit.record({
      actor: AUTH_ACTOR,
      role: null,
      purpose: STAFF_PURPOSE,
      action: 'login',
      subjectIds: [account.subject_id],
      decision: 'denied',
      reason: 'account_locked',
    });
    return Promise.resolve();
  });
}

/**
 * Password login. The answer is the same whether the e-mail is unknown, the account disabled, or
 * the password wrong (`unauthenticated`), and takes the same argon2 work, so the form reveals
 * nothing. A locked account (wrong second-factor codes) says `account_locked` with its end only
 * to a correct password. Both outcomes are audited.
 *
 * With a second factor set up, the session is `mfa_pending` until a code is given; a role that
 * requires one without it gets an `mfa_enrolment` session that may only enrol (decision 0020).
 */
export async function loginStaff(
  kernel: Kernel,
  input: { tenant: string; email: string; password: string },
): Promise<LoginResult> {
  // Only an unknown tenant reads as a failed login; a database error is a 503, not "wrong password".
  const tenant = await kernel.tenants.bySlug(input.tenant).catch((error: unknown) => {
    if (isAppError(error) && error.code === 'tenant_not_found') return undefined;
    throw error;
  });
  const email = input.email.trim().toLowerCase();
  const account = tenant ? await readLoginAccount(kernel, tenant.tenantId, email) : undefined;
  const passwordOk = await verify(account?.password_hash ?? (await DUMMY_HASH_PROMISE), input.password);
  const now = kernel.clock.now();
  const lockedUntil =
    account?.locked_until != null && account.locked_until > now ? account.locked_until : null;
  if (tenant && account && passwordOk && lockedUntil && account.status === 'active') {
    // Said only after a correct password: to anyone else a locked account looks like any other.
    await recordAuthLocked(kernel, tenant.tenantId, account);
    throw lockedError(lockedUntil, now);
  }
  if (!tenant || !account || !passwordOk || account.status !== 'active') {
    if (tenant) {
      await recordAuthFailure(
        kernel,
        tenant.tenantId,
        account ? { staffId: account.staff_id, subjectId: account.subject_id } : undefined,
        'login',
      );
    }
    throw FAILED();
  }
  const subjectId = account.subject_id;
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const stage: StoredSessionStage =
    account.totp_enabled_at !== null
      ? 'mfa_pending'
      : roleRequiresMfa(policy, account.role)
        ? 'mfa_enrolment'
        : 'full';
  const issued = await kernel.transact(tenant.tenantId, async (atx) => {
    await atx.tx
      .updateTable('staff_users')
      .set({ failed_logins: 0, failed_window_started_at: null, locked_until: null })
      .where('staff_id', '=', account.staff_id)
      .execute();
    const session = await issueSession(atx, account.staff_id, stage, now);
    atx.audit.record({
      actor: { kind: 'staff', id: String(account.staff_id) },
      role: account.role,
      purpose: STAFF_PURPOSE,
      action: stage === 'mfa_pending' ? 'login.password' : 'login',
      subjectIds: [subjectId],
      decision: 'allowed',
      ...(stage === 'full'
        ? {}
        : { reason: stage === 'mfa_pending' ? 'second factor pending' : 'must enrol a second factor' }),
    });
    return session;
  });
  return {
    ...issued,
    principal: {
      tenantId: tenant.tenantId,
      tenantSlug: tenant.slug,
      staffId: account.staff_id,
      role: account.role,
      via: 'session',
      stage: stage === 'full' && account.must_change_password ? 'password_change' : stage,
      secondFactorAt: null,
    },
    mustChangePassword: account.must_change_password,
  };
}

/**
 * Second step of a login: a TOTP code or an unused recovery code turns an `mfa_pending` session
 * into a full one (with a new token). A wrong code counts towards the account's lockout.
 */
export async function completeMfaLogin(
  kernel: Kernel,
  principal: StaffPrincipal,
  currentCookie: string | undefined,
  code: string,
): Promise<IssuedSession> {
  if (principal.stage !== 'mfa_pending') throw new AppError('conflict', 'no second factor pending');
  const now = kernel.clock.now();
  const outcome = await kernel.transact(principal.tenantId, async (atx) => {
    const account = await atx.tx
      .selectFrom('staff_users')
      .select(['subject_id', 'locked_until', 'status'])
      .where('staff_id', '=', principal.staffId)
      .executeTakeFirst();
    if (!account?.subject_id || account.status !== 'active') return { ok: false as const, subjectId: null };
    if (account.locked_until !== null && account.locked_until > now)
      return { ok: false as const, subjectId: account.subject_id };
    const check = await checkSecondFactor(kernel, atx, principal.staffId, account.subject_id, code, now);
    if (!check.ok) return { ok: false as const, subjectId: account.subject_id };
    const session = await upgradeSession(atx, principal.staffId, currentCookie, now);
    atx.audit.record({
      actor: { kind: 'staff', id: String(principal.staffId) },
      role: principal.role,
      purpose: STAFF_PURPOSE,
      action: 'login',
      subjectIds: [account.subject_id],
      decision: 'allowed',
      reason: check.method === 'totp' ? 'second factor: authenticator code' : 'second factor: recovery code',
    });
    return { ok: true as const, session };
  });
  if (!outcome.ok) {
    await recordAuthFailure(
      kernel,
      principal.tenantId,
      { staffId: principal.staffId, subjectId: outcome.subjectId },
      'login.second-factor',
    );
    throw new AppError('unauthenticated', 'second factor failed', {
      publicMessage: 'wrong or used code',
    });
  }
  return outcome.session;
}

/**
 * Resolves a session cookie to the staff member behind it; refuses expired sessions (idle or
 * absolute) and disabled accounts at once. Moves the idle clock on. A full session of a role
 * that requires a second factor not set up (the policy changed) counts as `mfa_enrolment`.
 */
export async function authenticateSession(
  kernel: Kernel,
  cookie: string,
  csrfHeader?: string,
): Promise<StaffPrincipal> {
  const parsed = parseSessionCookie(cookie);
  if (!parsed) throw new AppError('unauthenticated', 'malformed session');
  const { tenantId, token } = parsed;
  const hash = sha256(token);
  const now = kernel.clock.now();
  const found = await kernel.plain(tenantId, async (tx) => {
    const row = await tx
      .selectFrom('staff_sessions as s')
      .innerJoin('staff_users as u', (join) =>
        join.onRef('u.tenant_id', '=', 's.tenant_id').onRef('u.staff_id', '=', 's.staff_id'),
      )
      .innerJoin('tenants as t', 't.tenant_id', 's.tenant_id')
      .select([
        's.staff_id',
        's.csrf_hash',
        's.last_seen_at',
        's.expires_at',
        's.stage',
        's.second_factor_at',
        'u.role',
        'u.status',
        'u.totp_enabled_at',
        'u.must_change_password',
        't.slug',
      ])
      .where('s.session_hash', '=', hash)
      .executeTakeFirst();
    if (!row) return undefined;
    const expired = row.expires_at <= now || now.getTime() - row.last_seen_at.getTime() > SESSION_IDLE_MS;
    if (expired || row.status !== 'active') {
      await tx.deleteFrom('staff_sessions').where('session_hash', '=', hash).execute();
      return undefined;
    }
    await tx
      .updateTable('staff_sessions')
      .set({ last_seen_at: now })
      .where('session_hash', '=', hash)
      .execute();
    return row;
  });
  if (!found) throw new AppError('unauthenticated', 'no valid session');
  if (csrfHeader !== undefined) {
    const given = sha256(csrfHeader);
    if (!timingSafeEqual(given, found.csrf_hash))
      throw new AppError('forbidden', 'CSRF token mismatch', {
        publicMessage: 'missing or wrong CSRF token',
      });
  }
  let stage: SessionStage = found.stage;
  if (stage === 'full' && found.totp_enabled_at === null) {
    const { policy } = await kernel.policies.current(tenantId);
    if (roleRequiresMfa(policy, found.role)) stage = 'mfa_enrolment';
  }
  // A one-time password (invite, first run, reset) works only to choose a new one.
  if (stage === 'full' && found.must_change_password) stage = 'password_change';
  return {
    tenantId,
    tenantSlug: found.slug,
    staffId: found.staff_id,
    role: found.role,
    via: 'session',
    stage,
    secondFactorAt: found.second_factor_at,
  };
}

/**
 * Step-up (VX-4): a fresh TOTP code proves the second factor again on a full session, so that
 * revealing a dossier secret can require one from the last few minutes. Recovery codes do not
 * step up (they are for a lost device, not for routine use). A wrong code counts towards the
 * account's lockout; both outcomes are audited.
 */
export async function stepUpSession(
  kernel: Kernel,
  principal: StaffPrincipal,
  currentCookie: string | undefined,
  code: string,
): Promise<Date> {
  const current = currentCookie ? parseSessionCookie(currentCookie) : undefined;
  if (principal.via !== 'session' || !current || current.tenantId !== principal.tenantId)
    throw new AppError('forbidden', 'step-up needs a session', {
      publicMessage: 'a step-up needs a staff login session, not an API token',
    });
  const now = kernel.clock.now();
  const outcome = await kernel.transact(principal.tenantId, async (atx) => {
    const account = await atx.tx
      .selectFrom('staff_users')
      .select(['subject_id', 'locked_until', 'status'])
      .where('staff_id', '=', principal.staffId)
      .executeTakeFirst();
    if (!account?.subject_id || account.status !== 'active') return { ok: false as const, subjectId: null };
    const isLocked = account.locked_until !== null && account.locked_until > now;
    const check =
      isLocked || !/^\d{6}$/.test(code)
        ? { ok: false as const }
        : await checkSecondFactor(kernel, atx, principal.staffId, account.subject_id, code, now);
    if (!check.ok) return { ok: false as const, subjectId: account.subject_id };
    await atx.tx
      .updateTable('staff_sessions')
      .set({ second_factor_at: now })
      .where('session_hash', '=', sha256(current.token))
      .where('staff_id', '=', principal.staffId)
      .execute();
    atx.audit.record({
      actor: { kind: 'staff', id: String(principal.staffId) },
      role: principal.role,
      purpose: STAFF_PURPOSE,
      action: 'login.step-up',
      subjectIds: [account.subject_id],
      decision: 'allowed',
      reason: 'second factor: authenticator code',
    });
    return { ok: true as const };
  });
  if (!outcome.ok) {
    await recordAuthFailure(
      kernel,
      principal.tenantId,
      { staffId: principal.staffId, subjectId: outcome.subjectId },
      'login.step-up',
    );
    throw new AppError('forbidden', 'step-up failed', { publicMessage: 'wrong or used code' });
  }
  return now;
}

/**
 * Ends the session of a cookie (a malformed or unknown cookie has none to end). A delete that
 * fails throws: the session still works, so the logout must not answer that it ended (a database
 * outage is a 503, decision 0626/0628).
 */
export async function logoutSession(kernel: Kernel, cookie: string): Promise<void> {
  const parsed = parseSessionCookie(cookie);
  if (!parsed) return;
  await kernel.plain(parsed.tenantId, (tx) =>
    tx.deleteFrom('staff_sessions').where('session_hash', '=', sha256(parsed.token)).execute(),
  );
}

/**
 * Changes one's own password: the current password is required, the new one is argon2id-hashed,
 * `must_change_password` is cleared and every other session of the account ends. A wrong current
 * password counts towards the lockout. Category user.authorization.credentials, purpose
 * staff_accounts, the staff member acting as the data subject.
 */
export async function changeOwnPassword(
  kernel: Kernel,
  principal: StaffPrincipal,
  currentCookie: string | undefined,
  input: { currentPassword: string; newPassword: string },
): Promise<void> {
  if (principal.via !== 'session') throw new AppError('forbidden', 'tokens cannot change passwords');
  const self = await kernel.plain(principal.tenantId, (tx) =>
    tx
      .selectFrom('staff_users')
      .select('subject_id')
      .where('staff_id', '=', principal.staffId)
      .executeTakeFirst(),
  );
  if (!self?.subject_id) throw new AppError('unauthenticated', 'no such account');
  const ownAccount = { staffId: principal.staffId, subjectId: self.subject_id };
  const subjectId = ownAccount.subjectId;
  // The staff member reads their own credentials, as the data subject they are.
  const asSelf = { kind: 'subject', subjectId } as const;
  const account = await kernel.transact(principal.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, asSelf, {
      purpose: STAFF_PURPOSE,
      action: 'read',
      categories: ['user.authorization.credentials', 'user.contact.email'],
      subjectIds: [subjectId],
    });
    return selectOwnCredentials(atx.tx, grant, principal.staffId, subjectId);
  });
  if (!account) throw new AppError('unauthenticated', 'no such account');
  if (!(await verify(account.passwordHash, input.currentPassword))) {
    await recordAuthFailure(
      kernel,
      principal.tenantId,
      { staffId: principal.staffId, subjectId },
      'password.change',
    );
    throw new AppError('forbidden', 'wrong current password', {
      publicMessage: 'the current password is wrong',
    });
  }
  const rule = passwordProblem(input.newPassword, {
    previous: input.currentPassword,
    email: account.email,
    words: await serviceWords(kernel, principal.tenantId),
  });
  if (rule) throw passwordRefused(rule, 'newPassword');
  const passwordHash = await hashPassword(input.newPassword);
  const current = currentCookie ? parseSessionCookie(currentCookie) : undefined;
  await kernel.transact(principal.tenantId, async (atx) => {
    const grant = await kernel.gate.authorize(atx, asSelf, {
      purpose: STAFF_PURPOSE,
      action: 'write',
      categories: ['user.authorization.credentials'],
      subjectIds: [subjectId],
    });
    // Under the row's lock: of changes sent at once with the same current password, the first is
    // saved and the others find the password they verified gone (409, nothing written).
    if ((await lockPasswordHash(atx.tx, grant, ownAccount)) !== account.passwordHash)
      throw new AppError('conflict', 'password changed meanwhile', {
        publicMessage:
          'the password was changed by another request meanwhile; this new password was not saved',
        details: { rule: 'password_changed_meanwhile' },
      });
    await updatePasswordHash(atx.tx, grant, ownAccount, passwordHash, false);
    let others = atx.tx.deleteFrom('staff_sessions').where('staff_id', '=', principal.staffId);
    if (current) others = others.where('session_hash', '<>', sha256(current.token));
    await others.execute();
    atx.audit.record({
      actor: { kind: 'staff', id: String(principal.staffId) },
      role: principal.role,
      purpose: STAFF_PURPOSE,
      action: 'password.change',
      subjectIds: [subjectId],
      decision: 'allowed',
    });
  });
}

/** The words of the service a staff password may not contain: the tenant's slug, the controller's name. */
export async function serviceWords(kernel: Kernel, tenantId: number): Promise<PasswordContext['words']> {
  const [tenant, { policy }] = await Promise.all([
    kernel.tenants.byId(tenantId),
    kernel.policies.current(tenantId),
  ]);
  return [tenant.slug, policy.controller.legalName];
}

/** One audit entry when a failure count reaches its limit (not one per refused attempt). */
export async function recordRateLimited(kernel: Kernel, tenantId: number, buckets: string): Promise<void> {
  await kernel.transact(tenantId, (atx) => {
    atx.audit.record({
      actor: AUTH_ACTOR,
      role: null,
      purpose: STAFF_PURPOSE,
      action: 'login.rate-limit',
      decision: 'denied',
      reason: `too many failed attempts (${buckets}); further attempts slowed down`,
    });
    return Promise.resolve();
  });
}

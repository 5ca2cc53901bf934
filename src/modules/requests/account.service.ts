import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import { hash, verify } from '@node-rs/argon2';
import { sql, type Selectable } from 'kysely';
import type { AccessReportOptions } from '../../kernel/access-report/index.js';
import { authorizeSignIn } from '../../kernel/gate/access.js';
import { AccessDenied, type Actor } from '../../kernel/gate/gate.js';
import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import { touchSubjects } from '../../kernel/subjects/index.js';
import { AppError, describeUnexpected, isAppError } from '../../platform/errors.js';
import { passwordProblem, passwordRefused } from '../../platform/password-rules.js';
import { findSignupContacts } from '../consent/index.js';
import { findPeopleByContact, getPerson, type Person } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { selectPortalPasswordHash, upsertPortalPassword } from './account.repository.js';
import { writeLetter } from './letters.js';
import { brusselsDate } from './deadlines.js';
import {
  createVerifiedRequest,
  dispatchLetters,
  queueLetter,
  RIGHTS_PURPOSE,
  NO_BROWSER,
  type SignInBrowser,
  type RequestsDeps,
  type RequestStatus,
} from './requests.service.js';
import type { RequestKind, SubjectSessionsTable } from './requests.tables.js';

const LINK_TTL_MS = 15 * 60 * 1000;
const SESSION_IDLE_MS = 30 * 60 * 1000;
const SESSION_ABSOLUTE_MS = 8 * 60 * 60 * 1000;
const ARGON2 = { algorithm: 2, memoryCost: 19_456, timeCost: 2, parallelism: 1 } as const;
const PORTAL: Actor = { kind: 'system', job: 'rights-portal' };
const DUMMY_HASH = hash(randomBytes(16).toString('hex'), ARGON2);

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();
const failed = (): AppError =>
  new AppError('unauthenticated', 'portal login failed', {
    publicMessage: 'unknown account, wrong password or expired link',
  });

export interface SubjectSession {
  tenant: Tenant;
  subjectId: number;
  /** How and when this session was opened (a fresh mailed link may set a password, decision 1061). */
  openedBy: 'link' | 'password';
  openedAt: Date;
  /** The hash of this session's token: a password change ends every session but this one. */
  sessionHash: Buffer;
}

export interface PortalLogin {
  /** `<tenantId>.<token>` for an HttpOnly cookie. */
  sessionToken: string;
  csrfToken: string;
}

const PORTAL_CONTEXT = (tenant: Tenant) => ({
  tenantId: tenant.tenantId,
  actor: PORTAL,
  purpose: RIGHTS_PURPOSE,
});

async function matchSubject(
  deps: RequestsDeps,
  tenant: Tenant,
  email: string,
): Promise<{ subjectId: number; email: string; language: string | null } | undefined> {
  const matches = await findPeopleByContact(
    deps.kernel,
    { tenantId: tenant.tenantId, actor: PORTAL, purpose: RIGHTS_PURPOSE },
    { email },
  ).catch((error: unknown) => {
    // A refusal of the gate reads as "no match"; a database error is a 503, not a failed login.
    if (isAppError(error)) return [];
    throw error;
  });
  const [match] = matches;
  if (matches.length > 0)
    return matches.length === 1 && match?.email
      ? { subjectId: match.subjectId, email: match.email, language: match.preferredLanguage ?? null }
      : undefined;
  // A subscriber of the public form has only their sign-up's address (decision 0991).
  const subscribers = await findSignupContacts(deps.kernel, PORTAL_CONTEXT(tenant), email);
  const [subscriber] = subscribers;
  return subscribers.length === 1 && subscriber ? { ...subscriber } : undefined;
}

/** The person's language if the policy's statement is offered in it, else the policy's first. */
export function offeredLanguage(policy: Policy, language: string | null | undefined): Language {
  const offered = policy.statement.languages as readonly string[];
  return language && offered.includes(language)
    ? (language as Language)
    : (policy.statement.languages[0] ?? 'nl');
}

/** Sends a one-time login link to the e-mail address on file; the answer never says whether it exists. */
export async function requestLoginLink(
  deps: RequestsDeps,
  tenantSlug: string,
  email: string,
  options: { mail?: boolean } = {},
): Promise<void> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const found = await matchSubject(deps, tenant, email.trim().toLowerCase());
  // Past the address's day of link mails (decision 0460) the same work is done as for an unknown
  // address: no link, a letter without a recipient.
  const match = options.mail === false ? undefined : found;
  const token = randomBytes(32).toString('base64url');
  const { policy } = await deps.kernel.policies.current(tenant.tenantId);
  // The person's own language when the statement is offered in it (issue 19); the link's page
  // (a button that logs in, decision 0400) speaks it too.
  const language = offeredLanguage(policy, match?.language);
  const letter = writeLetter(policy, language, {
    kind: 'access',
    outcome: 'login_link',
    link: `${deps.publicUrl}/t/${tenant.slug}/account/login?token=${token}&language=${language}`,
    receivedOn: brusselsDate(deps.kernel.clock.now()),
    dueOn: '',
  });
  // The link and its letter are written in one transaction (the outbox, decision 0190), for a
  // known and an unknown address alike: the letter sender drops the one without a recipient.
  await deps.kernel.plain(tenant.tenantId, async (tx) => {
    if (match)
      await tx
        .insertInto('subject_login_links')
        .values({
          tenant_id: tenant.tenantId,
          token_hash: sha256(token),
          subject_id: match.subjectId,
          expires_at: new Date(deps.kernel.clock.now().getTime() + LINK_TTL_MS),
        })
        .execute();
    await queueLetter(deps, tx, tenant.tenantId, policy, match?.email ?? null, letter, 'login_link');
  });
  dispatchLetters(deps, tenant.tenantId);
}

async function openSession(
  deps: RequestsDeps,
  tenant: Tenant,
  subjectId: number,
  browser: SignInBrowser,
  openedBy: 'link' | 'password',
): Promise<PortalLogin> {
  const token = randomBytes(32).toString('base64url');
  const csrf = randomBytes(32).toString('base64url');
  const now = deps.kernel.clock.now();
  await deps.kernel.plain(tenant.tenantId, (tx) =>
    tx
      .insertInto('subject_sessions')
      .values({
        tenant_id: tenant.tenantId,
        session_hash: sha256(token),
        subject_id: subjectId,
        csrf_hash: sha256(csrf),
        created_at: now,
        last_seen_at: now,
        expires_at: new Date(now.getTime() + SESSION_ABSOLUTE_MS),
        opened_by: openedBy,
      })
      .execute(),
  );
  await deps.kernel.transact(tenant.tenantId, async (atx) => {
    // A portal login is activity of the person: it moves their inactivity clock (decision 0095),
    // not the collection clock: nothing is received (decision 0916).
    await touchSubjects(atx, [subjectId], now, 'contact');
    atx.audit.record({
      actor: { kind: 'subject', id: String(subjectId) },
      role: 'data_subject',
      purpose: RIGHTS_PURPOSE,
      action: 'login',
      decision: 'allowed',
    });
  });
  // What joins the person at login (the browser's cookie consent id) must not fail the login, and
  // a login another site made the browser do joins nothing (decision 0412).
  if (!browser.crossSite)
    await deps
      .onPortalSignIn?.({ tenantId: tenant.tenantId, subjectId, cookies: browser.cookies })
      .catch((error: unknown) =>
        deps.logger.error({ err: describeUnexpected(error) }, 'portal sign-in hook failed'),
      );
  return { sessionToken: `${tenant.tenantId}.${token}`, csrfToken: csrf };
}

/** Logs in with a one-time link from the e-mail on file (single use, 15 minutes). */
export async function loginWithLink(
  deps: RequestsDeps,
  tenantSlug: string,
  token: string,
  browser: SignInBrowser = NO_BROWSER,
): Promise<PortalLogin> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw failed();
  const now = deps.kernel.clock.now();
  const row = await deps.kernel.plain(tenant.tenantId, (tx) =>
    tx
      .updateTable('subject_login_links')
      .set({ used_at: now })
      .where('token_hash', '=', sha256(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .returning('subject_id')
      .executeTakeFirst(),
  );
  if (!row) throw failed();
  return openSession(deps, tenant, row.subject_id, browser, 'link');
}

/**
 * The password hash of the person a login names, read before anyone is known: through the
 * gate's sign-in door (system actor `rights-portal`, audited). A refusal reads as no password.
 */
async function readPasswordHash(
  deps: RequestsDeps,
  tenant: Tenant,
  subjectId: number,
): Promise<string | undefined> {
  try {
    return await deps.kernel.transact(tenant.tenantId, async (atx) => {
      const grant = await authorizeSignIn(deps.kernel, atx, 'rights-portal', {
        purpose: RIGHTS_PURPOSE,
        action: 'read',
        subjectId,
      });
      return selectPortalPasswordHash(atx.tx, grant, subjectId);
    });
  } catch (error) {
    if (error instanceof AccessDenied) return undefined;
    throw error;
  }
}

/** Password login; unknown address, no password set and wrong password answer alike. */
export async function loginWithPassword(
  deps: RequestsDeps,
  tenantSlug: string,
  email: string,
  password: string,
  browser: SignInBrowser = NO_BROWSER,
): Promise<PortalLogin> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const match = await matchSubject(deps, tenant, email.trim().toLowerCase());
  const passwordHash = match ? await readPasswordHash(deps, tenant, match.subjectId) : undefined;
  const ok = await verify(passwordHash ?? (await DUMMY_HASH), password);
  if (!match || !passwordHash || !ok) throw failed();
  return openSession(deps, tenant, match.subjectId, browser, 'password');
}

/** Resolves the portal cookie; on writes the CSRF token must match too. */
export async function authenticateSubject(
  deps: RequestsDeps,
  tenantSlug: string,
  cookie: string,
  csrf: string | undefined,
): Promise<SubjectSession> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const match = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!match || Number(match[1]) !== tenant.tenantId) throw failed();
  const now = deps.kernel.clock.now();
  const session = await deps.kernel.plain(tenant.tenantId, async (tx) => {
    const row: Selectable<SubjectSessionsTable> | undefined = await tx
      .selectFrom('subject_sessions')
      .selectAll()
      .where('session_hash', '=', sha256(match[2] ?? ''))
      .executeTakeFirst();
    if (!row || row.expires_at <= now || now.getTime() - row.last_seen_at.getTime() > SESSION_IDLE_MS)
      return undefined;
    await tx
      .updateTable('subject_sessions')
      .set({ last_seen_at: now })
      .where('session_hash', '=', row.session_hash)
      .execute();
    return row;
  });
  if (!session) throw failed();
  if (csrf !== undefined && !timingSafeEqual(sha256(csrf), session.csrf_hash))
    throw new AppError('forbidden', 'CSRF token mismatch', { publicMessage: 'missing or wrong CSRF token' });
  return {
    tenant,
    subjectId: session.subject_id,
    openedBy: session.opened_by,
    openedAt: session.created_at,
    sessionHash: session.session_hash,
  };
}

/** What a password change needs: the new password, and the current one when one is set. */
export interface PortalPasswordChange {
  password: string;
  currentPassword?: string | undefined;
}

/** Whether the account has a password, and whether changing it needs the current one. */
export interface PortalPasswordState {
  isSet: boolean;
  needsCurrent: boolean;
}

/** The person's own password hash, read as the person (their own credentials). */
async function readOwnPasswordHash(deps: RequestsDeps, session: SubjectSession): Promise<string | undefined> {
  return deps.kernel.transact(session.tenant.tenantId, async (atx) => {
    const grant = await deps.kernel.gate.authorize(
      atx,
      { kind: 'subject', subjectId: session.subjectId },
      {
        purpose: RIGHTS_PURPOSE,
        action: 'read',
        categories: ['user.authorization.credentials'],
        subjectIds: [session.subjectId],
      },
    );
    return selectPortalPasswordHash(atx.tx, grant, session.subjectId);
  });
}

/**
 * A session opened by a mailed link proves, for as long as the link itself would have lived, that
 * the person reads the mailbox on file: it may set a new password without the current one (the way
 * back from a forgotten password). Any other session must give the current one (decision 1061).
 */
function isFreshLinkSession(deps: RequestsDeps, session: SubjectSession): boolean {
  return (
    session.openedBy === 'link' &&
    deps.kernel.clock.now().getTime() - session.openedAt.getTime() <= LINK_TTL_MS
  );
}

/** Whether the account has a password, and whether a change must give the current one. */
export async function portalPasswordState(
  deps: RequestsDeps,
  session: SubjectSession,
): Promise<PortalPasswordState> {
  const isSet = (await readOwnPasswordHash(deps, session)) !== undefined;
  return { isSet, needsCurrent: isSet && !isFreshLinkSession(deps, session) };
}

/** The refusal of a wrong or missing current password (`details.rule` names which). */
const currentPasswordRefused = (rule: 'current_password_wrong' | 'current_password_required'): AppError =>
  new AppError('forbidden', rule, {
    publicMessage:
      rule === 'current_password_wrong'
        ? 'currentPassword: the current password is wrong'
        : 'currentPassword: required when the account has a password',
    details: { rule, issues: [{ path: 'body/currentPassword', message: rule }] },
  });

/** The 409 of a change that lost to another change of the same password sent at the same time. */
const passwordChangedMeanwhile = (): AppError =>
  new AppError('conflict', 'password_changed_meanwhile', {
    publicMessage:
      'the password was changed by another request meanwhile; this new password was not saved (log in with the one that was)',
    details: { rule: 'password_changed_meanwhile' },
  });

/**
 * Sets or changes the account password (through the gate: the person writes their own
 * credentials). When a password is set, the current one is required, except in a fresh session of
 * a mailed link; the new one meets the shared password rule (decision 1060); every other portal
 * session of the person ends in the same transaction, as does every login link mailed before it and
 * not yet used (decision 1110); the answer says how many sessions ended.
 */
export async function setPortalPassword(
  deps: RequestsDeps,
  session: SubjectSession,
  change: PortalPasswordChange,
): Promise<{ otherSessionsEnded: number }> {
  const storedHash = await readOwnPasswordHash(deps, session);
  let previous: string | undefined;
  if (storedHash !== undefined) {
    const current = change.currentPassword ?? '';
    if (current !== '') {
      if (!(await verify(storedHash, current))) throw currentPasswordRefused('current_password_wrong');
      previous = current;
    } else if (!isFreshLinkSession(deps, session)) throw currentPasswordRefused('current_password_required');
  }
  const { tenant } = session;
  const [{ policy }, person] = await Promise.all([
    deps.kernel.policies.current(tenant.tenantId),
    readOwnPerson(deps, session),
  ]);
  const rule = passwordProblem(change.password, {
    previous,
    email: person?.email ?? undefined,
    words: [tenant.slug, policy.controller.legalName],
  });
  if (rule) throw passwordRefused(rule, 'password');
  // Without the current one in plain (a fresh link), the stored hash says whether it is the same.
  if (previous === undefined && storedHash !== undefined && (await verify(storedHash, change.password)))
    throw passwordRefused('password_unchanged', 'password');
  const passwordHash = await hash(change.password, ARGON2);
  return deps.kernel.transact(tenant.tenantId, async (atx) => {
    const grant = await deps.kernel.gate.authorize(
      atx,
      { kind: 'subject', subjectId: session.subjectId },
      {
        purpose: RIGHTS_PURPOSE,
        action: 'write',
        categories: ['user.authorization.credentials'],
        subjectIds: [session.subjectId],
      },
    );
    // Checked and written under the account's lock: of changes sent at once with the same current
    // password, the first is saved and the others find the password it was checked against gone.
    const lockedHash = await selectPortalPasswordHash(atx.tx, grant, session.subjectId, { forUpdate: true });
    if (lockedHash !== storedHash) throw passwordChangedMeanwhile();
    await upsertPortalPassword(atx.tx, grant, session.subjectId, passwordHash, deps.kernel.clock.now());
    const ended = await atx.tx
      .deleteFrom('subject_sessions')
      .where('subject_id', '=', session.subjectId)
      .where('session_hash', '<>', session.sessionHash)
      .executeTakeFirst();
    const otherSessionsEnded = Number(ended.numDeletedRows);
    // A link mailed before the change would open a session the change did not end (decision 1110).
    const revoked = await atx.tx
      .deleteFrom('subject_login_links')
      .where('subject_id', '=', session.subjectId)
      .where('used_at', 'is', null)
      .where('expires_at', '>', deps.kernel.clock.now())
      .executeTakeFirst();
    const unusedLinksRevoked = Number(revoked.numDeletedRows);
    atx.audit.record({
      actor: { kind: 'subject', id: String(session.subjectId) },
      role: 'data_subject',
      purpose: RIGHTS_PURPOSE,
      action: 'password.change',
      subjectIds: [session.subjectId],
      decision: 'allowed',
      reason: `${storedHash === undefined ? 'password set' : 'password changed'}; ${otherSessionsEnded} other session(s) ended; ${unusedLinksRevoked} unused login link(s) revoked`,
    });
    return { otherSessionsEnded };
  });
}

/** The options of the person's own access report, read through their portal session. */
export function ownDataOptions(session: SubjectSession, language: Language): AccessReportOptions {
  return {
    tenantId: session.tenant.tenantId,
    actor: { kind: 'subject', subjectId: session.subjectId },
    purpose: RIGHTS_PURPOSE,
    subjectId: session.subjectId,
    language,
  };
}

/** The person's own contact record (name, contact, language) as they read it in their account. */
export async function readOwnPerson(
  deps: RequestsDeps,
  session: SubjectSession,
): Promise<Person | undefined> {
  return getPerson(
    deps.kernel,
    {
      tenantId: session.tenant.tenantId,
      actor: { kind: 'subject', subjectId: session.subjectId },
      purpose: RIGHTS_PURPOSE,
    },
    session.subjectId,
  ).catch((error: unknown) => {
    if (isAppError(error)) return undefined;
    throw error;
  });
}

/** The person's own requests, newest first (kind, state, dates: what the status page shows). */
export async function listOwnRequests(
  deps: RequestsDeps,
  session: SubjectSession,
): Promise<Array<RequestStatus & { erasureWaitsFor?: { lastDay: string | null } }>> {
  const rows = await deps.kernel.plain(session.tenant.tenantId, (tx) =>
    tx
      .selectFrom('rights_requests as r')
      // A second erasure request answered "sameAs" the waiting one shows that one's day.
      .leftJoin('deferred_erasures as d', (join) =>
        join
          .onRef('d.tenant_id', '=', 'r.tenant_id')
          .on(
            sql<boolean>`d.request_id = coalesce((r.outcome #>> '{erasureDeferred,sameAs}')::uuid, r.request_id)`,
          ),
      )
      .select([
        'r.request_id',
        'r.kind',
        'r.state',
        'r.received_at',
        'r.due_on',
        'r.extended_due_on',
        'd.last_day',
        'd.recorded_at',
      ])
      .where('r.subject_id', '=', session.subjectId)
      .orderBy('r.received_at', 'desc')
      .limit(200)
      .execute(),
  );
  return rows.map((row) => ({
    requestId: row.request_id,
    kind: row.kind,
    state: row.state,
    receivedOn: brusselsDate(row.received_at),
    dueOn: String(row.extended_due_on ?? row.due_on),
    // Answered, not yet carried out: the erasure waits for the contract's end (decision 1210).
    ...(row.recorded_at === null ? {} : { erasureWaitsFor: { lastDay: row.last_day } }),
  }));
}

/** Ends a portal session (log-out, or after the account was erased). */
export async function endSession(deps: RequestsDeps, tenantId: number, cookie: string): Promise<void> {
  const match = /^(\d{1,9})\.([A-Za-z0-9_-]{43})$/.exec(cookie);
  if (!match || Number(match[1]) !== tenantId) return;
  await deps.kernel.plain(tenantId, (tx) =>
    tx
      .deleteFrom('subject_sessions')
      .where('session_hash', '=', sha256(match[2] ?? ''))
      .execute(),
  );
}

/**
 * A request filed from the account is verified by the login itself, and carried out at once —
 * erasure too (VK-23 "via the personal settings of your account"), legal holds respected.
 */
export async function fileAccountRequest(
  deps: RequestsDeps,
  session: SubjectSession,
  input: {
    kind: RequestKind;
    purposes?: string[];
    corrections?: unknown;
    transferTo?: string;
    language?: Language;
  },
): Promise<RequestStatus> {
  return createVerifiedRequest(deps, session.tenant, session.subjectId, input);
}

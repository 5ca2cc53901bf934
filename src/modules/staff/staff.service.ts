import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import { auditActor, type Actor } from '../../kernel/gate/gate.js';
import { eraseSubject } from '../../kernel/erasure/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { registerSubject } from '../../kernel/subjects/index.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { staffDataMap } from './datamap.js';
import { forgetFoundTokens } from './token-cache.js';
import {
  clearSecondFactor,
  insertStaffUser,
  isStaffEmailTaken,
  selectStaffRows,
  updatePasswordHash,
  type StaffRow,
} from './account.repository.js';

// argon2id with OWASP's suggested minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_OPTIONS = {
  algorithm: 2 /* Argon2id */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** The purpose under which staff accounts are managed (declared by every policy, decision 0006). */
export const STAFF_PURPOSE = 'staff_accounts';
/** A staff account's personal data: what a removal decides on and erases (decision 0919). */
export const STAFF_CATEGORIES = ['user.name', 'user.contact.email', 'user.authorization.credentials'];
/** Who erases a removed account, on the decision of the admin who removed it (decision 0919). */
const STAFF_REMOVAL_ACTOR = { kind: 'system', job: 'staff-removal' } as const;

export const createStaffInputSchema = z.object({
  email: z.string().trim().toLowerCase().email('expected an e-mail address'),
  displayName: z.string().trim().min(1).max(200),
  role: z.string().regex(/^[a-z][a-z0-9_]{1,40}$/, 'expected a role key'),
});

export type CreateStaffInput = z.input<typeof createStaffInputSchema>;

export interface CreatedStaffUser {
  staffId: number;
  email: string;
  role: string;
  /** Shown once to whoever created the account; only its hash is stored. */
  oneTimePassword: string;
}

export function hashPassword(password: string): Promise<string> {
  return hash(password, ARGON2_OPTIONS);
}

/**
 * Creates a staff account (a data subject of type `staff`) with a random one-time password that
 * must be changed at first login. The role must be one of the tenant policy's roles.
 * Categories: user.name, user.contact.email, user.authorization.credentials; purpose staff_accounts.
 */
export async function createStaffUser(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  input: CreateStaffInput,
): Promise<CreatedStaffUser> {
  const valid = parseInput(createStaffInputSchema, input);
  assertFreeTextAllowed(tableMap(staffDataMap, 'staff_users'), [
    { column: 'display_name', field: 'displayName', value: valid.displayName },
  ]);
  const { policy } = await kernel.policies.current(tenantId);
  if (!Object.hasOwn(policy.roles, valid.role)) {
    throw new AppError('validation_failed', 'unknown role', {
      publicMessage: `role: "${valid.role}" is not a role of this tenant's policy (${Object.keys(policy.roles).join(', ')})`,
    });
  }
  const oneTimePassword = randomBytes(15).toString('base64url');
  const passwordHash = await hashPassword(oneTimePassword);
  return kernel.transact(tenantId, async (atx) => {
    if (await isStaffEmailTaken(atx.tx, valid.email))
      throw new AppError('conflict', 'staff e-mail taken', {
        publicMessage: 'a staff user with this e-mail exists',
      });
    const subjectId = await registerSubject(atx, 'staff', kernel.clock.now());
    const grant = await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'write',
      categories: STAFF_CATEGORIES,
      subjectIds: [subjectId],
    });
    const row = await insertStaffUser(atx.tx, grant, {
      subjectId,
      email: valid.email,
      displayName: valid.displayName,
      role: valid.role,
      passwordHash,
    });
    return { ...row, oneTimePassword };
  });
}

/**
 * A fresh one-time password for an account not yet handed over: used when a first-run setup,
 * resumed after a crash, finds an account whose first one-time password was never saved.
 * Category user.authorization.credentials; purpose staff_accounts.
 */
export async function issueOneTimePassword(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  staffId: number,
): Promise<string> {
  const oneTimePassword = randomBytes(15).toString('base64url');
  const passwordHash = await hashPassword(oneTimePassword);
  await kernel.transact(tenantId, (atx) => writeOneTimePassword(kernel, atx, actor, staffId, passwordHash));
  return oneTimePassword;
}

/**
 * Stores a one-time password's hash on an account (it must be changed at the next login), the
 * gate deciding under staff_accounts for the account's subject; that subject's id.
 */
/** The account's state a reset looks at before it issues a password (decision 1130). */
interface ResetState {
  mustChangePassword: boolean;
  passwordResetAt: Date | null;
}

async function writeOneTimePassword(
  kernel: Kernel,
  atx: AuditedTx,
  actor: Actor,
  staffId: number,
  passwordHash: string,
  // Called once the account is locked and the actor allowed, before anything is written.
  check?: (state: ResetState) => void,
): Promise<number> {
  const row = await atx.tx
    .selectFrom('staff_users')
    .select(['subject_id', 'must_change_password', 'password_reset_at'])
    .where('staff_id', '=', staffId)
    .forUpdate()
    .executeTakeFirst();
  if (!row?.subject_id)
    throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
  const grant = await kernel.gate.authorize(atx, actor, {
    purpose: STAFF_PURPOSE,
    action: 'write',
    categories: ['user.authorization.credentials'],
    subjectIds: [row.subject_id],
  });
  check?.({ mustChangePassword: row.must_change_password, passwordResetAt: row.password_reset_at });
  await updatePasswordHash(atx.tx, grant, { staffId, subjectId: row.subject_id }, passwordHash, true);
  return row.subject_id;
}

/** How long after a reset, while its password is unused, another reset is taken for a double click. */
export const RESET_REPEAT_WINDOW_SECONDS = 60;

/**
 * Gives a staff member who forgot their password a new random one-time password, as an invite
 * does: it must be changed at the next login, every session of the account ends, the second factor
 * and API tokens stay (the person still proves the second factor). Never one's own (change it with
 * the current one); the CLI (a system actor) may reset any account, the last admin's too.
 * Resets of one account are serialised on its row; a second one within a minute of the first,
 * while the first password is unused, is refused 409 naming the first, so that a double click or
 * two admins at once never hand out a password that was already replaced (decision 1130).
 * Category user.authorization.credentials; purpose staff_accounts; audited `staff.password.reset`.
 */
export async function resetStaffPassword(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  staffId: number,
): Promise<{ staffId: number; oneTimePassword: string; sessionsEnded: number }> {
  if (actor.kind === 'staff' && actor.staffId === staffId)
    throw new AppError('forbidden', 'own password reset', {
      publicMessage:
        'one’s own password is changed with the current one (POST /api/v1/auth/password), not reset',
    });
  const oneTimePassword = randomBytes(15).toString('base64url');
  const passwordHash = await hashPassword(oneTimePassword);
  return kernel.transact(tenantId, async (atx) => {
    const now = kernel.clock.now();
    const subjectId = await writeOneTimePassword(kernel, atx, actor, staffId, passwordHash, (state) => {
      const previous = state.passwordResetAt;
      if (
        state.mustChangePassword &&
        previous !== null &&
        now.getTime() - previous.getTime() < RESET_REPEAT_WINDOW_SECONDS * 1000
      ) {
        const message = `a one-time password was already issued to staff ${staffId} at ${previous.toISOString()} and is not used yet; give that one, or reset again after ${RESET_REPEAT_WINDOW_SECONDS} seconds`;
        throw new AppError('conflict', 'reset repeated within the window', {
          publicMessage: message,
          details: { previousResetAt: previous.toISOString() },
        });
      }
    });
    await atx.tx
      .updateTable('staff_users')
      .set({ password_reset_at: now })
      .where('staff_id', '=', staffId)
      .execute();
    const ended = await atx.tx
      .deleteFrom('staff_sessions')
      .where('staff_id', '=', staffId)
      .executeTakeFirst();
    const sessionsEnded = Number(ended.numDeletedRows);
    atx.audit.record({
      actor: auditActor(actor),
      role: actor.kind === 'staff' ? actor.role : null,
      purpose: STAFF_PURPOSE,
      action: 'staff.password.reset',
      subjectIds: [subjectId],
      decision: 'allowed',
      reason: `one-time password issued; ${sessionsEnded} session(s) ended`,
    });
    return { staffId, oneTimePassword, sessionsEnded };
  });
}

export async function countStaffUsers(kernel: Kernel, tenantId: number): Promise<number> {
  return kernel.transact(tenantId, async (atx) => {
    const row = await atx.tx
      .selectFrom('staff_users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  });
}

/** A staff account as the service hands it out: no password hash, TOTP secret or code hashes. */
export interface StaffView {
  staffId: number;
  email: string;
  displayName: string;
  role: string;
  status: 'active' | 'disabled';
  mustChangePassword: boolean;
  mfaEnabled: boolean;
  isLocked: boolean;
  createdAt: Date;
}

/** The account's subject and state, without a personal column: what the gate is asked about. */
const LOCATE_COLUMNS = ['staff_id', 'subject_id', 'role', 'status'] as const;

function toView(row: StaffRow, now: Date): StaffView {
  return {
    staffId: row.staff_id,
    email: row.email,
    displayName: row.display_name,
    role: row.role,
    status: row.status,
    mustChangePassword: row.must_change_password,
    mfaEnabled: row.totp_enabled_at !== null,
    isLocked: row.locked_until !== null && row.locked_until > now,
    createdAt: row.created_at,
  };
}

const subjectsOf = (rows: readonly { subject_id: number | null }[]): number[] =>
  rows.flatMap((row) => (row.subject_id === null ? [] : [row.subject_id]));

/**
 * One page of the tenant's staff, ordered by id (keyset pagination: pass the last id as `after`).
 * Categories user.name, user.contact.email; purpose staff_accounts (admin roles only).
 */
export async function listStaff(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  page: { limit: number; after?: number | undefined },
): Promise<{ items: StaffView[]; nextAfter: number | null }> {
  const now = kernel.clock.now();
  return kernel.transact(tenantId, async (atx) => {
    const located = await atx.tx
      .selectFrom('staff_users')
      .select(LOCATE_COLUMNS)
      .where('staff_id', '>', page.after ?? 0)
      .where('subject_id', 'is not', null)
      .orderBy('staff_id')
      .limit(page.limit + 1)
      .execute();
    const pageRows = located.slice(0, page.limit);
    const grant = await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'read',
      categories: ['user.name', 'user.contact.email'],
      subjectIds: subjectsOf(pageRows),
    });
    const rows = await selectStaffRows(
      atx.tx,
      grant,
      pageRows.map((row) => row.staff_id),
    );
    const last = pageRows.at(-1);
    return {
      items: rows.map((row) => toView(row, now)),
      nextAfter: located.length > page.limit && last ? last.staff_id : null,
    };
  });
}

/** One staff account. Categories user.name, user.contact.email; purpose staff_accounts. */
export async function getStaff(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  staffId: number,
): Promise<StaffView> {
  const now = kernel.clock.now();
  return kernel.transact(tenantId, async (atx) => {
    const located = await atx.tx
      .selectFrom('staff_users')
      .select(LOCATE_COLUMNS)
      .where('staff_id', '=', staffId)
      .executeTakeFirst();
    if (!located?.subject_id)
      throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
    const grant = await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'read',
      categories: ['user.name', 'user.contact.email'],
      subjectIds: [located.subject_id],
    });
    const [row] = await selectStaffRows(atx.tx, grant, [staffId]);
    if (!row) throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
    return toView(row, now);
  });
}

export type StaffChange =
  { kind: 'role'; role: string } | { kind: 'status'; status: 'active' | 'disabled' } | { kind: 'mfa_reset' };

/**
 * Changes a staff account: its role (one of the policy's), its status, or removes its second
 * factor. The account's sessions end with any change, so a new role or a disabled account takes
 * effect at once. The last active account with a staff-managing role cannot be demoted or
 * disabled (`conflict`). Category user.authorization.credentials; purpose staff_accounts.
 */
export async function changeStaff(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  staffId: number,
  change: StaffChange,
): Promise<StaffView> {
  const { policy } = await kernel.policies.current(tenantId);
  if (change.kind === 'role' && !Object.hasOwn(policy.roles, change.role)) {
    throw new AppError('validation_failed', 'unknown role', {
      publicMessage: `role: not a role of this tenant's policy (${Object.keys(policy.roles).join(', ')})`,
    });
  }
  const adminRoles = new Set(policy.purposes[STAFF_PURPOSE]?.roles ?? []);
  const now = kernel.clock.now();
  const changed = await kernel.transact(tenantId, async (atx) => {
    const target = await atx.tx
      .selectFrom('staff_users')
      .select(LOCATE_COLUMNS)
      .where('staff_id', '=', staffId)
      .forUpdate()
      .executeTakeFirst();
    if (!target?.subject_id)
      throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
    const account = { staffId, subjectId: target.subject_id };
    const grant = await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'write',
      categories: ['user.authorization.credentials'],
      subjectIds: [account.subjectId],
    });
    grant.assertWritable();
    const after = {
      role: change.kind === 'role' ? change.role : target.role,
      status: change.kind === 'status' ? change.status : target.status,
    };
    const wasAdmin = target.status === 'active' && adminRoles.has(target.role);
    const staysAdmin = after.status === 'active' && adminRoles.has(after.role);
    if (wasAdmin && !staysAdmin) {
      // Locks every active admin row: two admins demoting each other concurrently serialise here.
      const admins = await atx.tx
        .selectFrom('staff_users')
        .select('staff_id')
        .where('status', '=', 'active')
        .where('role', 'in', [...adminRoles])
        .forUpdate()
        .execute();
      if (admins.filter((row) => row.staff_id !== staffId).length === 0) {
        throw new AppError('conflict', 'last admin', {
          publicMessage: 'this is the last active admin; make another admin first',
        });
      }
    }
    if (change.kind === 'mfa_reset') {
      await clearSecondFactor(atx.tx, grant, account);
    } else {
      await atx.tx.updateTable('staff_users').set(after).where('staff_id', '=', staffId).execute();
    }
    await atx.tx.deleteFrom('staff_sessions').where('staff_id', '=', staffId).execute();
    // Disabling ends the account's API tokens for good: enabling it again does not bring them back
    // (attack S18, noticed; decision 0876). So does a second-factor reset: a token minted by
    // whoever held the lost factor must not outlive it (attack S20-16; decision 0922).
    const revoked =
      (change.kind === 'status' && change.status === 'disabled') || change.kind === 'mfa_reset'
        ? await atx.tx
            .updateTable('staff_api_tokens')
            .set({ revoked_at: now })
            .where('created_by', '=', staffId)
            .where('revoked_at', 'is', null)
            .returning('token_id')
            .execute()
        : [];
    atx.audit.record({
      actor: auditActor(actor),
      role: actor.kind === 'staff' ? actor.role : null,
      purpose: STAFF_PURPOSE,
      action:
        change.kind === 'role'
          ? 'staff.role.change'
          : change.kind === 'mfa_reset'
            ? 'staff.mfa.reset'
            : change.status === 'disabled'
              ? 'staff.disable'
              : 'staff.enable',
      subjectIds: subjectsOf([target]),
      decision: 'allowed',
      ...(change.kind === 'role' ? { reason: `role ${target.role} changed to ${change.role}` } : {}),
      ...(revoked.length > 0 ? { reason: `${revoked.length} API tokens of the account revoked` } : {}),
    });
    // The answer shows the account's name and e-mail: read under their own decision.
    const readGrant = await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'read',
      categories: ['user.name', 'user.contact.email'],
      subjectIds: [account.subjectId],
    });
    const [updated] = await selectStaffRows(atx.tx, readGrant, [staffId]);
    if (!updated)
      throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
    return toView(updated, now);
  });
  // A disabled maker's tokens, or tokens beyond a new role, are refused at the next request.
  forgetFoundTokens(kernel);
  return changed;
}

/**
 * Removes a former staff member's account when their employment ends: both statements keep staff
 * access data "while the contract runs" (decision 0919). The account must be disabled first (which
 * ended its sessions and revoked its API tokens, and which the last admin never is); then its
 * name, e-mail, password hash and second factor are erased through the data map like any
 * person's (the row goes, the subject is marked erased, its key is shredded and the erasure
 * journalled for restores). The audit log keeps the staff number and role of what they did.
 * Nobody removes their own account.
 */
export async function removeStaff(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  staffId: number,
): Promise<{ staffId: number; removed: true }> {
  const target = await kernel.transact(tenantId, async (atx) => {
    // Only those who may manage staff learn whether the number exists.
    await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'write',
      categories: [],
      subjectIds: [],
    });
    const row = await atx.tx
      .selectFrom('staff_users')
      .select(LOCATE_COLUMNS)
      .where('staff_id', '=', staffId)
      .executeTakeFirst();
    if (!row?.subject_id) return undefined;
    // The caller's own decision on this account: the erasure below acts on it.
    await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'write',
      categories: STAFF_CATEGORIES,
      subjectIds: [row.subject_id],
    });
    return row;
  });
  if (!target?.subject_id)
    throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
  if (actor.kind === 'staff' && actor.staffId === staffId)
    throw new AppError('conflict', 'own account', {
      publicMessage: 'you cannot remove your own account; another admin can',
      details: { reason: 'own_account' },
    });
  if (target.status !== 'disabled')
    throw new AppError('conflict', 'account still active', {
      publicMessage: 'disable the account first: that ends its sessions and API tokens at once',
      details: { reason: 'still_active' },
    });
  // Erasing what one purpose holds is a system job's (as retention's, decision 0095): staff erase
  // whole persons only through the rights requests, whose purposes do not cover staff (0060).
  await eraseSubject(kernel, staffDataMap, {
    tenantId,
    actor: STAFF_REMOVAL_ACTOR,
    purpose: STAFF_PURPOSE,
    subjectId: target.subject_id,
    withinErasure: (atx, outcome) => {
      // Removed a moment ago by another call: that one answered; this one finds nobody.
      if (outcome.alreadyErased)
        throw new AppError('not_found', 'no such staff user', { publicMessage: 'no such staff user' });
      atx.audit.record({
        actor: auditActor(actor),
        role: actor.kind === 'staff' ? actor.role : null,
        purpose: STAFF_PURPOSE,
        action: 'staff.remove',
        subjectIds: [target.subject_id as number],
        decision: 'allowed',
        reason: `staff ${staffId} (${target.role}) removed: name, e-mail and credentials erased`,
      });
      return Promise.resolve();
    },
  });
  forgetFoundTokens(kernel);
  return { staffId, removed: true };
}

/** The roles of the tenant's policy in force, with their labels (for inviting and changing roles). */
export async function listRoles(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
): Promise<Array<{ key: string; label: { nl: string; fr: string; en: string } }>> {
  const { policy } = await kernel.policies.current(tenantId);
  await kernel.transact(tenantId, async (atx) => {
    await kernel.gate.authorize(atx, actor, {
      purpose: STAFF_PURPOSE,
      action: 'read',
      categories: [],
      subjectIds: [],
    });
  });
  return Object.entries(policy.roles).map(([key, role]) => ({ key, label: role.label }));
}

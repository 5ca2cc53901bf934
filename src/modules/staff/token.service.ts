import { randomBytes } from 'node:crypto';
import { z } from 'zod';
import { sql } from 'kysely';
import type { AuditedTx, AuditReasonCode } from '../../kernel/audit/index.js';
import { auditActor, type Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { withoutNotingCommits } from '../../platform/request-scope.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { staffDataMap } from './datamap.js';
import { sha256, type StaffPrincipal } from './auth.service.js';
import { purposesBeyond, roleRequiresMfa, staffAdminRoles } from './staff.policy.js';
import { STAFF_PURPOSE } from './staff.service.js';
import {
  forgetFoundTokens,
  keepToken,
  reusedToken,
  tokenGeneration,
  tokenKey,
  type FoundToken,
} from './token-cache.js';

/** `kluis_<tenantId>_<43 characters>`: the tenant id picks the tenant (RLS), the rest is 256 random bits. */
const TOKEN_PATTERN = /^kluis_(\d{1,9})_([A-Za-z0-9_-]{43})$/;
// Writing last_used_at on every request would turn each read into a write; a minute is precise enough.
const LAST_USED_PRECISION_MS = 60_000;

/** How long a token lasts unless its maker says otherwise, and the longest it may (decision 1002). */
export const TOKEN_DEFAULT_DAYS = 90;
export const TOKEN_MAX_DAYS = 365;
const DAY_MS = 86_400_000;

export const createTokenInputSchema = z.strictObject({
  label: z
    .string()
    .trim()
    .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,79}$/, 'letters, digits, spaces and ._- (at most 80)'),
  role: z.string().regex(/^[a-z][a-z0-9_]{1,40}$/, 'expected a role key'),
  expiresInDays: z.number().int().min(1).max(TOKEN_MAX_DAYS).default(TOKEN_DEFAULT_DAYS),
});

export type CreateTokenInput = z.input<typeof createTokenInputSchema>;

export interface ApiTokenView {
  tokenId: number;
  label: string;
  role: string;
  createdBy: number;
  createdAt: Date;
  lastUsedAt: Date | null;
  revokedAt: Date | null;
  expiresAt: Date;
  /** Whether it still opens the API: `revoked` wins over `expired` (attack finding S23-2, noticed). */
  status: ApiTokenStatus;
}

export type ApiTokenStatus = 'active' | 'expired' | 'revoked';

/** Staff-managing roles (admins) manage every token; the gate decides and audits it. */
async function authorizeTokenAdmin(
  kernel: Kernel,
  atx: AuditedTx,
  actor: Actor,
  write: boolean,
): Promise<void> {
  const grant = await kernel.gate.authorize(atx, actor, {
    purpose: STAFF_PURPOSE,
    action: write ? 'write' : 'read',
    categories: [],
    subjectIds: [],
  });
  if (write) grant.assertWritable();
}

const TOKEN_COLUMNS = [
  'token_id',
  'label',
  'role',
  'created_by',
  'created_at',
  'last_used_at',
  'revoked_at',
  'expires_at',
] as const;

function toView(
  row: {
    token_id: number;
    label: string;
    role: string;
    created_by: number;
    created_at: Date;
    last_used_at: Date | null;
    revoked_at: Date | null;
    expires_at: Date;
  },
  now: Date,
): ApiTokenView {
  return {
    status: row.revoked_at !== null ? 'revoked' : row.expires_at <= now ? 'expired' : 'active',
    tokenId: row.token_id,
    label: row.label,
    role: row.role,
    createdBy: row.created_by,
    createdAt: row.created_at,
    lastUsedAt: row.last_used_at,
    revokedAt: row.revoked_at,
    expiresAt: row.expires_at,
  };
}

/**
 * Creates an API token scoped to one role of the policy, for the staff member who asks: the token
 * carries at most their own role (no purpose beyond theirs, so no admin can mint a privacy
 * officer's powers), and a role that requires a second factor is minted only by an account that
 * signs in with one. The token is returned once; only its SHA-256 is stored. Requests made with it
 * act as its maker's staff id with the token's role (decision 0020, 0062). Audited, refusals too.
 */
export async function createApiToken(
  kernel: Kernel,
  tenantId: number,
  actor: Actor & { kind: 'staff' },
  input: CreateTokenInput,
): Promise<{ token: string; view: ApiTokenView }> {
  const parsed = createTokenInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'invalid token input', {
      publicMessage: parsed.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; '),
    });
  }
  const { policy } = await kernel.policies.current(tenantId);
  if (!Object.hasOwn(policy.roles, parsed.data.role)) {
    throw new AppError('validation_failed', 'unknown role', {
      publicMessage: `role: not a role of this tenant's policy (${Object.keys(policy.roles).join(', ')})`,
    });
  }
  assertFreeTextAllowed(tableMap(staffDataMap, 'staff_api_tokens'), [
    { column: 'label', field: 'label', value: parsed.data.label },
  ]);
  const role = parsed.data.role;
  const beyond = purposesBeyond(policy, role, actor.role);
  if (beyond.length > 0) {
    await recordTokenRefusal(kernel, tenantId, actor, 'role_beyond_maker');
    throw new AppError('role_not_allowed', 'token role beyond its maker', {
      publicMessage: `role: a token carries at most your own role; ${role} acts under purposes yours does not (${beyond.join(', ')})`,
    });
  }
  if (roleRequiresMfa(policy, role) && !(await hasSecondFactor(kernel, tenantId, actor.staffId))) {
    await recordTokenRefusal(kernel, tenantId, actor, 'second_factor_missing');
    throw new AppError('forbidden', 'token role needs a second factor', {
      publicMessage: `role ${role} requires a second factor: set one up and sign in with it before making its token`,
    });
  }
  const secret = randomBytes(32).toString('base64url');
  const now = kernel.clock.now();
  return kernel.transact(tenantId, async (atx) => {
    const row = await atx.tx
      .insertInto('staff_api_tokens')
      .values({
        tenant_id: tenantId,
        token_hash: sha256(secret),
        label: parsed.data.label,
        role,
        created_by: actor.staffId,
        created_at: now,
        expires_at: new Date(now.getTime() + parsed.data.expiresInDays * DAY_MS),
      })
      .returning(TOKEN_COLUMNS)
      .executeTakeFirstOrThrow();
    atx.audit.record({
      actor: auditActor(actor),
      role: actor.role,
      purpose: STAFF_PURPOSE,
      action: 'token.create',
      decision: 'allowed',
      reason: `api token ${row.token_id} for role ${row.role}, ${parsed.data.expiresInDays} days`,
    });
    return { token: `kluis_${tenantId}_${secret}`, view: toView(row, now) };
  });
}

/** Whether the account has a second factor set up (its logins then need it, decision 0020). */
async function hasSecondFactor(kernel: Kernel, tenantId: number, staffId: number): Promise<boolean> {
  const row = await kernel.plain(tenantId, (tx) =>
    tx.selectFrom('staff_users').select('totp_enabled_at').where('staff_id', '=', staffId).executeTakeFirst(),
  );
  return row?.totp_enabled_at != null;
}

async function recordTokenRefusal(
  kernel: Kernel,
  tenantId: number,
  actor: Actor & { kind: 'staff' },
  reason: AuditReasonCode,
): Promise<void> {
  await kernel.transact(tenantId, (atx) => {
    atx.audit.record({
      actor: auditActor(actor),
      role: actor.role,
      purpose: STAFF_PURPOSE,
      action: 'token.create',
      decision: 'denied',
      reason,
    });
    return Promise.resolve();
  });
}

/** Whether the actor manages staff (sees and revokes every token); others see only their own. */
async function isTokenAdmin(kernel: Kernel, tenantId: number, actor: Actor): Promise<boolean> {
  if (actor.kind !== 'staff') return true;
  const { policy } = await kernel.policies.current(tenantId);
  return staffAdminRoles(policy).has(actor.role);
}

export async function listApiTokens(kernel: Kernel, tenantId: number, actor: Actor): Promise<ApiTokenView[]> {
  const isAdmin = await isTokenAdmin(kernel, tenantId, actor);
  return kernel.transact(tenantId, async (atx) => {
    if (isAdmin) await authorizeTokenAdmin(kernel, atx, actor, false);
    let query = atx.tx.selectFrom('staff_api_tokens').select(TOKEN_COLUMNS).orderBy('token_id');
    if (!isAdmin && actor.kind === 'staff') query = query.where('created_by', '=', actor.staffId);
    const rows = await query.execute();
    const now = kernel.clock.now();
    return rows.map((row) => toView(row, now));
  });
}

/**
 * Revokes a token: the next request with it to this process is refused; another process that found
 * it a moment ago refuses it within a second (decision 0730). Audited.
 */
export async function revokeApiToken(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  tokenId: number,
): Promise<ApiTokenView> {
  const now = kernel.clock.now();
  const isAdmin = await isTokenAdmin(kernel, tenantId, actor);
  const revoked = await kernel.transact(tenantId, async (atx) => {
    if (isAdmin) await authorizeTokenAdmin(kernel, atx, actor, true);
    const existing = await atx.tx
      .selectFrom('staff_api_tokens')
      .select(TOKEN_COLUMNS)
      .where('token_id', '=', tokenId)
      .forUpdate()
      .executeTakeFirst();
    // Someone who does not manage staff sees only their own tokens: another's is "no such token".
    const isVisible = isAdmin || (actor.kind === 'staff' && existing?.created_by === actor.staffId);
    if (!existing || !isVisible)
      throw new AppError('not_found', 'no such token', { publicMessage: 'no such token' });
    if (existing.revoked_at !== null) return toView(existing, now);
    const row = await atx.tx
      .updateTable('staff_api_tokens')
      .set({ revoked_at: now })
      .where('token_id', '=', tokenId)
      .returning(TOKEN_COLUMNS)
      .executeTakeFirstOrThrow();
    atx.audit.record({
      actor: auditActor(actor),
      role: actor.kind === 'staff' ? actor.role : null,
      purpose: STAFF_PURPOSE,
      action: 'token.revoke',
      decision: 'allowed',
      reason: `api token ${row.token_id} revoked`,
    });
    return toView(row, now);
  });
  // The next request with it is refused, also when it was found a moment ago (decision 0730).
  forgetFoundTokens(kernel);
  return revoked;
}

/**
 * Resolves a bearer token. Refused when malformed, unknown, revoked, or when its maker is
 * disabled or their role no longer covers the token's.
 */
export async function authenticateApiToken(kernel: Kernel, bearer: string): Promise<StaffPrincipal> {
  const match = TOKEN_PATTERN.exec(bearer);
  if (!match) throw new AppError('unauthenticated', 'malformed API token');
  const tenantId = Number(match[1]);
  const hash = sha256(match[2] ?? '');
  const now = kernel.clock.now();
  // One statement, no transaction of its own (decision 0370): the function scopes itself to the
  // tenant and records the use at most once per LAST_USED_PRECISION_MS. A database error is not
  // "no such token": it reaches the error handler (503 when the database is down, decision 0628),
  // so a client never drops a valid token because of an outage.
  // A token found in the last second is reused (decision 0730, token-cache.ts); the checks against
  // the policy below run on every request.
  const key = tokenKey(tenantId, hash);
  let found = reusedToken(kernel, key);
  if (!found) {
    const generation = tokenGeneration(kernel);
    // Its record of the use is housekeeping, not the request's work: it never makes a later 503
    // "partial" (decision 0812).
    [found] = await withoutNotingCommits(() =>
      kernel.statement(
        sql<FoundToken>`
        select token_id, role, created_by, creator_role, slug
          from kluis_find_api_token(${tenantId}, ${hash}, ${now},
                                    ${new Date(now.getTime() - LAST_USED_PRECISION_MS)})`,
      ),
    );
    if (!found) throw new AppError('unauthenticated', 'no valid API token');
    keepToken(kernel, key, found, generation);
  }
  const { policy } = await kernel.policies.current(tenantId);
  // A token never carries more than its maker's current role (a maker moved to a narrower role
  // takes their tokens along), nor a role the policy no longer has.
  if (
    !Object.hasOwn(policy.roles, found.role) ||
    purposesBeyond(policy, found.role, found.creator_role).length > 0
  )
    throw new AppError('unauthenticated', 'the token role exceeds its maker');
  return {
    tenantId,
    tenantSlug: found.slug,
    staffId: found.created_by,
    role: found.role,
    via: 'token',
    stage: 'full',
    tokenId: found.token_id,
    // A token proves no second factor: it can never reveal a dossier secret (VX-4).
    secondFactorAt: null,
  };
}

import { createHash, randomBytes } from 'node:crypto';
import { z } from 'zod';
import type { AuditedTx } from '../../kernel/audit/index.js';
import { AccessDenied, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Tx } from '../../platform/db.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import { selectSecret, type SecretField } from './dossier.repository.js';
import { staffIdOf } from './dossier.service.js';
import { withRevealRule, type RevealContext } from './reveal.service.js';

const SHARE_ACTOR = { kind: 'system', job: 'dossier-share-link' } as const;
const TOKEN = /^[A-Za-z0-9_-]{43}$/;

export const createShareInputSchema = z
  .object({
    field: z.enum(['password', 'totpSeed']),
    reason: z.string().max(1000).optional(),
    /** How long the link may be opened; 24 hours unless said, a week at most. */
    expiresInHours: z.number().int().min(1).max(168).default(24),
  })
  .strict();

const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();

/** One answer for an unknown, used or expired link: the caller learns nothing more. */
const goneError = (): AppError =>
  new AppError('not_found', 'share link unknown, used or expired', {
    publicMessage: 'no such link, or it was already opened or has expired',
  });

/**
 * Creates a one-time link to one secret of a credential (kluis.dossier.credential), under the
 * reveal rule (technician, typed reason, fresh second factor), audited as `dossier.share.create`.
 * The token leaves once, in the result; only its hash is stored.
 */
export async function createShareLink(
  kernel: Kernel,
  context: RevealContext,
  credentialId: number,
  input: z.input<typeof createShareInputSchema>,
): Promise<{ token: string; field: SecretField; expiresAt: Date }> {
  const data = parseInput(createShareInputSchema, input);
  const now = kernel.clock.now();
  const expiresAt = new Date(now.getTime() + data.expiresInHours * 3600 * 1000);
  const token = randomBytes(32).toString('base64url');
  return withRevealRule(
    kernel,
    context,
    credentialId,
    'dossier.share.create',
    data.reason,
    async (secret, reason, { atx, subjectId, grant }) => {
      await secret(data.field); // exists and readable, or a clear 404/410 now rather than for the recipient
      await insertShareLink(atx.tx, grant, {
        tokenHash: hashToken(token),
        subjectId,
        credentialId,
        field: data.field,
        expiresAt,
        createdByStaffId: staffIdOf(context.actor),
        createdAt: now,
      });
      return {
        value: { token, field: data.field, expiresAt },
        audit: `one-time link to the ${data.field === 'password' ? 'password' : 'TOTP seed'} (${data.expiresInHours} h): ${reason}`,
      };
    },
  );
}

/**
 * A one-time link to one secret of a credential. Which secret it gives (the field's name, never its
 * value) is kluis.dossier.credential: written under the reveal's grant for that credential's
 * customer, since the link is that reveal, deferred to its recipient (decision 0121).
 */
async function insertShareLink(
  tx: Tx,
  grant: Grant,
  link: {
    tokenHash: Buffer;
    subjectId: number;
    credentialId: number;
    field: SecretField;
    expiresAt: Date;
    createdByStaffId: number | null;
    createdAt: Date;
  },
): Promise<void> {
  grant.assertCovers(C.credential, link.subjectId);
  await tx
    .insertInto('dossier_share_links')
    .values({
      tenant_id: grant.tenantId,
      token_hash: link.tokenHash,
      subject_id: link.subjectId,
      credential_id: link.credentialId,
      field: link.field,
      expires_at: link.expiresAt,
      created_by_staff_id: link.createdByStaffId,
      created_at: link.createdAt,
    })
    .execute();
}

/** A link's bookkeeping, found by its token's hash (no personal column: which secret is not read). */
async function locateShareLink(tx: Tx, token: string) {
  return tx
    .selectFrom('dossier_share_links')
    .select(['link_id', 'subject_id', 'credential_id', 'expires_at', 'viewed_at'])
    .where('token_hash', '=', hashToken(token))
    .forUpdate()
    .executeTakeFirst();
}

/** Which secret a link gives (kluis.dossier.credential), through the link's grant. */
async function selectShareLinkField(
  tx: Tx,
  grant: Grant,
  link: { linkId: number; subjectId: number },
): Promise<SecretField> {
  grant.assertCovers(C.credential, link.subjectId);
  const row = await tx
    .selectFrom('dossier_share_links')
    .select('field')
    .where('link_id', '=', link.linkId)
    .executeTakeFirstOrThrow();
  return row.field;
}

/**
 * The authority of a link: its token names one secret of one customer, and whoever holds it acts
 * as the system actor `dossier-share-link` under the policy's dossier purpose, the purpose the
 * technician created it under. The gate still decides (the customer's state, the purpose's
 * reach) and audits; nothing is read before it has.
 */
function authorizeShareLink(
  kernel: Kernel,
  atx: AuditedTx,
  purpose: string,
  subjectId: number,
): Promise<Grant> {
  return kernel.gate.authorize(atx, SHARE_ACTOR, {
    purpose,
    action: 'read',
    categories: [C.credential],
    subjectIds: [subjectId],
  });
}

/** What a link is about, without its secret (for the page that asks "open it now?"). */
export async function describeShareLink(
  kernel: Kernel,
  tenantId: number,
  purpose: string,
  token: string,
): Promise<{ field: SecretField; expiresAt: Date }> {
  if (!TOKEN.test(token)) throw goneError();
  const now = kernel.clock.now();
  try {
    return await kernel.transact(tenantId, async (atx) => {
      const link = await locateShareLink(atx.tx, token);
      if (!link || link.viewed_at !== null || link.expires_at <= now) throw goneError();
      const grant = await authorizeShareLink(kernel, atx, purpose, link.subject_id);
      const field = await selectShareLinkField(atx.tx, grant, {
        linkId: link.link_id,
        subjectId: link.subject_id,
      });
      return { field, expiresAt: link.expires_at };
    });
  } catch (error) {
    // A refusal (the customer's processing restricted, say) is audited; the holder learns nothing.
    if (error instanceof AccessDenied) throw goneError();
    throw error;
  }
}

/**
 * Opens a one-time link: the secret, once, before it expires. The read goes through the gate
 * (system actor `dossier-share-link` under the dossier purpose) and is audited as
 * `dossier.share.view`; a second opening or an expired link is refused and audited too.
 */
export async function openShareLink(
  kernel: Kernel,
  tenantId: number,
  purpose: string,
  token: string,
): Promise<{ field: SecretField; value: string }> {
  if (!TOKEN.test(token)) throw goneError();
  const now = kernel.clock.now();
  const outcome = await kernel.transact(tenantId, async (atx) => {
    const link = await locateShareLink(atx.tx, token);
    if (!link) return { ok: false as const };
    const refusal =
      link.viewed_at !== null ? 'share_used' : link.expires_at <= now ? 'share_expired' : undefined;
    if (refusal) return { ok: false as const, refusal, subjectId: link.subject_id };
    const grant = await authorizeShareLink(kernel, atx, purpose, link.subject_id);
    const field = await selectShareLinkField(atx.tx, grant, {
      linkId: link.link_id,
      subjectId: link.subject_id,
    });
    const secret = await selectSecret(atx.tx, grant, link.credential_id, link.subject_id, field);
    if (secret.kind !== 'value')
      return { ok: false as const, refusal: 'secret_gone', subjectId: link.subject_id };
    await atx.tx
      .updateTable('dossier_share_links')
      .set({ viewed_at: now })
      .where('link_id', '=', link.link_id)
      .execute();
    atx.audit.record({
      actor: { kind: 'system', id: SHARE_ACTOR.job },
      role: null,
      purpose,
      action: 'dossier.share.view',
      subjectIds: [link.subject_id],
      categories: [C.credential],
      records: 1,
      decision: 'allowed',
      reason: 'one-time link opened',
    });
    return { ok: true as const, field, value: secret.value };
  });
  if (outcome.ok) return { field: outcome.field, value: outcome.value };
  if (outcome.refusal !== undefined) {
    const { refusal, subjectId } = outcome;
    await kernel.transact(tenantId, (atx) => {
      atx.audit.record({
        actor: { kind: 'system', id: SHARE_ACTOR.job },
        role: null,
        purpose,
        action: 'dossier.share.view',
        subjectIds: [subjectId],
        categories: [C.credential],
        decision: 'denied',
        reason: refusal,
      });
      return Promise.resolve();
    });
  }
  throw goneError();
}

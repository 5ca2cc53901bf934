import { createGuardrails, generate } from 'otplib';
import { z } from 'zod';
import type { AuditEvent, AuditedTx, AuditReasonCode } from '../../kernel/audit/index.js';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, notFoundError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import { selectItemOwner, selectSecret, type SecretField } from './dossier.repository.js';
import { authorizeDossier, dossierEvent, shreddedError, type DossierContext } from './dossier.service.js';

/**
 * The seed is the one the customer's service issued, not ours to choose: many hand out 80 bits
 * (16 Base32 characters, the shortest the dossier accepts), below otplib's default floor of 128
 * (attack S19-2: every code of such a seed answered 500).
 */
const SERVICE_SEEDS = createGuardrails({ MIN_SECRET_BYTES: 10 });

const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/**
 * The seed's bytes, read as authenticator apps read it: RFC 4648 Base32 with or without padding,
 * the bits past the last whole byte dropped. otplib's decoder wants whole 40-bit groups, so a
 * 26-character (128-bit) seed, common and accepted by the dossier, answered 500 (attack S19-2).
 * The stored seed is already normalised (upper case, no spaces or dashes: the dossier's schema).
 */
function seedBytes(seed: string): Uint8Array {
  const bytes: number[] = [];
  let buffer = 0;
  let bits = 0;
  for (const char of seed.replace(/=+$/, '')) {
    const value = BASE32.indexOf(char);
    if (value < 0) throw new AppError('validation_failed', 'the stored TOTP seed is not Base32');
    buffer = ((buffer << 5) | value) & 0xffff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      bytes.push((buffer >> bits) & 0xff);
    }
  }
  return Uint8Array.from(bytes);
}

/** How recent the second factor must be to reveal a secret (VX-4 step-up). */
export const STEP_UP_MAX_AGE_MS = 5 * 60 * 1000;
export const REASON_MIN = 10;
export const REASON_MAX = 200;
const TOTP_PERIOD_S = 30;

/** A reveal is asked by someone who proved a second factor at `secondFactorAt` (null: never). */
export interface RevealContext extends DossierContext {
  secondFactorAt: Date | null;
}

export const revealInputSchema = z
  .object({
    field: z.enum(['password', 'totpSeed']),
    // Checked by the reveal rule (refusals are audited), not by the schema.
    reason: z.string().max(1000).optional(),
  })
  .strict();
export const totpCodeInputSchema = z.object({ reason: z.string().max(1000).optional() }).strict();

interface Refusal {
  error: AppError;
  /** A fixed key for the audit entry (one of AUDIT_REASON_CODES, decision 1260). */
  auditReason: AuditReasonCode;
}

/**
 * The typed reason goes into the audit entry, so it follows the audit log's rule: no e-mail
 * address, no long number, no control characters (docs/decisions/0091).
 */
export function checkReason(reason: string | undefined): Refusal | string {
  const trimmed = reason?.trim() ?? '';
  if (trimmed.length < REASON_MIN || trimmed.length > REASON_MAX) {
    const message = `reason: say why you need this secret (${REASON_MIN}-${REASON_MAX} characters)`;
    return {
      error: new AppError('validation_failed', 'reveal without a reason', {
        publicMessage: message,
        details: { issues: [{ path: 'body/reason', message }] },
      }),
      auditReason: 'reason_missing',
    };
  }
  if (trimmed.includes('@') || /\d(?:[\s./-]?\d){5,}/.test(trimmed) || /\p{Cc}/u.test(trimmed)) {
    const message = 'reason: must not contain an e-mail address, a long number or control characters';
    return {
      error: new AppError('validation_failed', 'unusable reveal reason', {
        publicMessage: message,
        details: { issues: [{ path: 'body/reason', message }] },
      }),
      auditReason: 'reason_unusable',
    };
  }
  return trimmed;
}

export function checkSecondFactor(secondFactorAt: Date | null, now: Date): Refusal | undefined {
  if (secondFactorAt !== null && now.getTime() - secondFactorAt.getTime() <= STEP_UP_MAX_AGE_MS)
    return undefined;
  return {
    error: new AppError('step_up_required', 'second factor missing or stale', {
      publicMessage:
        'revealing a secret needs a second factor from the last 5 minutes: POST /api/v1/auth/mfa/step-up with a fresh code',
    }),
    auditReason: secondFactorAt === null ? 'second_factor_missing' : 'second_factor_stale',
  };
}

class RevealRefused extends Error {
  constructor(
    readonly refusal: Refusal,
    readonly subjectId: number,
  ) {
    super('reveal refused');
  }
}

type RevealAction = 'dossier.reveal' | 'dossier.totp-code' | 'dossier.share.create' | 'dossier.export';

function revealEvent(
  context: RevealContext,
  action: RevealAction,
  subjectId: number,
  decision: 'allowed' | 'denied',
  reason: string,
): AuditEvent {
  return dossierEvent(context, { action, subjectId, category: C.credential, decision, reason });
}

/**
 * The reveal rule (VX-4): the gate decides the role and purpose (only the technician at Voxtra);
 * then a reason typed for this reveal and a second factor from the last 5 minutes. Every outcome
 * is audited with the reason; a refusal after the gate is recorded once the transaction ended.
 */
export async function withRevealRule<T>(
  kernel: Kernel,
  context: RevealContext,
  /** One credential, or a whole customer's credentials (the export with secrets). */
  target: number | { subjectId: number; categories?: readonly string[] },
  action: RevealAction,
  rawReason: string | undefined,
  work: (
    secret: (field: SecretField) => Promise<string>,
    reason: string,
    held: { atx: AuditedTx; subjectId: number; grant: Grant },
  ) => Promise<{ value: T; audit: string }>,
): Promise<T> {
  const now = kernel.clock.now();
  const credentialId = typeof target === 'number' ? target : undefined;
  try {
    return await kernel.transact(context.tenantId, async (atx) => {
      const subjectId =
        typeof target === 'number' ? await selectItemOwner(atx.tx, 'credential', target) : target.subjectId;
      if (subjectId === undefined) throw notFoundError('credential');
      const categories = typeof target === 'number' ? [C.credential] : (target.categories ?? [C.credential]);
      const grant = await authorizeDossier(kernel, atx, context, 'read', categories, [subjectId]);
      const factor = checkSecondFactor(context.secondFactorAt, now);
      if (factor) throw new RevealRefused(factor, subjectId);
      const reason = checkReason(rawReason);
      if (typeof reason !== 'string') throw new RevealRefused(reason, subjectId);
      const secret = async (field: SecretField): Promise<string> => {
        if (credentialId === undefined) throw new AppError('internal', 'no credential to read a secret of');
        const found = await selectSecret(atx.tx, grant, credentialId, subjectId, field);
        if (found.kind === 'shredded') throw shreddedError();
        if (found.kind === 'absent')
          throw notFoundError(
            field === 'password' ? 'password on this credential' : 'TOTP seed on this credential',
          );
        return found.value;
      };
      const result = await work(secret, reason, { atx, subjectId, grant });
      atx.audit.record(revealEvent(context, action, subjectId, 'allowed', result.audit));
      return result.value;
    });
  } catch (error) {
    if (!(error instanceof RevealRefused)) throw error;
    await kernel.transact(context.tenantId, (atx) => {
      atx.audit.record(revealEvent(context, action, error.subjectId, 'denied', error.refusal.auditReason));
      return Promise.resolve();
    });
    throw error.refusal.error;
  }
}

/**
 * Reveals one secret of a credential (kluis.dossier.credential, read) under the reveal rule; the
 * audit entry names the field and the typed reason, never the secret.
 */
export async function revealSecret(
  kernel: Kernel,
  context: RevealContext,
  credentialId: number,
  input: z.input<typeof revealInputSchema>,
): Promise<{ field: SecretField; value: string }> {
  const data = parseInput(revealInputSchema, input);
  return withRevealRule(
    kernel,
    context,
    credentialId,
    'dossier.reveal',
    data.reason,
    async (secret, reason) => ({
      value: { field: data.field, value: await secret(data.field) },
      audit: `${data.field === 'password' ? 'password' : 'TOTP seed'} revealed: ${reason}`,
    }),
  );
}

/**
 * The current TOTP code of a credential, computed from its seed without showing the seed; same
 * rule and audit as a reveal.
 */
export async function showTotpCode(
  kernel: Kernel,
  context: RevealContext,
  credentialId: number,
  input: z.input<typeof totpCodeInputSchema>,
): Promise<{ code: string; validForSeconds: number }> {
  const data = parseInput(totpCodeInputSchema, input);
  return withRevealRule(
    kernel,
    context,
    credentialId,
    'dossier.totp-code',
    data.reason,
    async (secret, reason) => {
      const seed = await secret('totpSeed');
      const epoch = Math.floor(kernel.clock.now().getTime() / 1000);
      const code = await generate({
        secret: seedBytes(seed),
        epoch,
        period: TOTP_PERIOD_S,
        guardrails: SERVICE_SEEDS,
      });
      return {
        value: { code, validForSeconds: TOTP_PERIOD_S - (epoch % TOTP_PERIOD_S) },
        audit: `TOTP code shown: ${reason}`,
      };
    },
  );
}

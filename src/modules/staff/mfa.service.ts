import { createHash, randomBytes } from 'node:crypto';
import { generateSecret, generateURI, verify as verifyTotp } from 'otplib';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Grant } from '../../kernel/gate/gate.js';
import { authorizeSignIn, type FieldRef } from '../../kernel/gate/access.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import {
  enableSecondFactor,
  selectStaffEmail,
  selectTotpSecret,
  updateTotpSecret,
  useRecoveryCode,
} from './account.repository.js';
import { STAFF_PURPOSE } from './staff.service.js';

const CREDENTIALS = 'user.authorization.credentials';
export const RECOVERY_CODE_COUNT = 10;
const TOTP_PERIOD_S = 30;
// One step either side absorbs clock drift between the server and the phone.
const TOTP_TOLERANCE_S = TOTP_PERIOD_S;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const totpRef = (staffId: number): FieldRef => ({
  table: 'staff_users',
  column: 'totp_secret',
  rowId: String(staffId),
});

/** Recovery codes carry 80 random bits, so a plain SHA-256 of them cannot be reversed by search. */
export function hashRecoveryCode(code: string): Buffer {
  const normalised = code.toUpperCase().replace(/[^A-Z2-7]/g, '');
  return createHash('sha256').update(`recovery:${normalised}`).digest();
}

function newRecoveryCode(): string {
  const bytes = randomBytes(16);
  let code = '';
  for (let i = 0; i < 16; i += 1) {
    code += BASE32[(bytes[i] ?? 0) & 31];
    if (i % 4 === 3 && i < 15) code += '-';
  }
  return code;
}

export interface MfaEnrolment {
  /** otpauth:// URI for a QR code; contains the secret, shown once. */
  otpauthUri: string;
  /** Base32 secret for manual entry, shown once. */
  secret: string;
}

/**
 * The signed-in staff member's own account, located by staff id (subject and state only), and a
 * grant of the gate for them to write their own credentials, as the data subject they are.
 */
async function authorizeOwnAccount(
  kernel: Kernel,
  atx: AuditedTx,
  staffId: number,
  categories: string[],
): Promise<{ account: { staffId: number; subjectId: number }; enabled: boolean; grant: Grant }> {
  const row = await atx.tx
    .selectFrom('staff_users')
    .select(['subject_id', 'totp_enabled_at'])
    .where('staff_id', '=', staffId)
    .where('status', '=', 'active')
    .executeTakeFirst();
  if (!row?.subject_id) throw new AppError('unauthenticated', 'no such account');
  const subjectId = row.subject_id;
  const grant = await kernel.gate.authorize(
    atx,
    { kind: 'subject', subjectId },
    { purpose: STAFF_PURPOSE, action: 'write', categories, subjectIds: [subjectId] },
  );
  grant.assertWritable();
  return { account: { staffId, subjectId }, enabled: row.totp_enabled_at !== null, grant };
}

/**
 * Starts (or restarts, while unconfirmed) TOTP enrolment: a new secret, stored encrypted under
 * the staff member's own data key, returned once as an otpauth URI and in Base32.
 * Categories user.authorization.credentials and user.contact.email (the URI's label); purpose
 * staff_accounts; the staff member acts as the data subject.
 */
export async function startMfaEnrolment(
  kernel: Kernel,
  tenant: { tenantId: number; tenantSlug: string },
  staffId: number,
  staffRole: string,
): Promise<MfaEnrolment> {
  return kernel.transact(tenant.tenantId, async (atx) => {
    const { account, enabled, grant } = await authorizeOwnAccount(kernel, atx, staffId, [
      CREDENTIALS,
      'user.contact.email',
    ]);
    if (enabled)
      throw new AppError('conflict', 'second factor already set up', {
        publicMessage: 'a second factor is already set up; an admin can reset it',
      });
    const email = (await selectStaffEmail(atx.tx, grant, account)) ?? '';
    const secret = generateSecret({ length: 20 });
    const ciphertext = await grant.encrypt(CREDENTIALS, account.subjectId, totpRef(staffId), secret);
    await updateTotpSecret(atx.tx, grant, account, ciphertext);
    atx.audit.record({
      actor: { kind: 'staff', id: String(staffId) },
      role: staffRole,
      purpose: STAFF_PURPOSE,
      action: 'mfa.enrol.start',
      subjectIds: [account.subjectId],
      decision: 'allowed',
    });
    const otpauthUri = generateURI({
      issuer: `Kluis ${tenant.tenantSlug}`,
      label: email,
      secret,
      period: TOTP_PERIOD_S,
    });
    return { otpauthUri, secret };
  });
}

/** Checks a TOTP code against a secret; the accepted time step, or undefined. */
async function matchTotp(
  secret: string,
  code: string,
  now: Date,
  afterTimeStep: number | null,
): Promise<number | undefined> {
  if (!/^\d{6}$/.test(code)) return undefined;
  try {
    const result = await verifyTotp({
      secret,
      token: code,
      epoch: Math.floor(now.getTime() / 1000),
      period: TOTP_PERIOD_S,
      epochTolerance: TOTP_TOLERANCE_S,
      ...(afterTimeStep === null ? {} : { afterTimeStep }),
    });
    // The functional API types TOTP and HOTP results together; a TOTP result names its step.
    return result.valid && 'timeStep' in result ? result.timeStep : undefined;
  } catch {
    return undefined;
  }
}

/** Stores the accepted step unless a concurrent request got there first: a code counts once. */
async function claimTimeStep(atx: AuditedTx, staffId: number, step: number): Promise<boolean> {
  const result = await atx.tx
    .updateTable('staff_users')
    .set({ totp_last_step: step })
    .where('staff_id', '=', staffId)
    .where((eb) => eb.or([eb('totp_last_step', 'is', null), eb('totp_last_step', '<', step)]))
    .executeTakeFirst();
  return result.numUpdatedRows > 0n;
}

/**
 * Confirms enrolment with a first code from the authenticator, and returns the recovery codes
 * (shown once; only their hashes are stored). Same categories and purpose as the start.
 */
export async function confirmMfaEnrolment(
  kernel: Kernel,
  tenantId: number,
  staffId: number,
  staffRole: string,
  code: string,
  onConfirmed?: (atx: AuditedTx) => Promise<void>,
): Promise<{ recoveryCodes: string[] }> {
  const now = kernel.clock.now();
  return kernel.transact(tenantId, async (atx) => {
    const { account, enabled, grant } = await authorizeOwnAccount(kernel, atx, staffId, [CREDENTIALS]);
    if (enabled)
      throw new AppError('conflict', 'second factor already set up', {
        publicMessage: 'a second factor is already set up',
      });
    const ciphertext = await selectTotpSecret(atx.tx, grant, account);
    if (!ciphertext)
      throw new AppError('conflict', 'enrolment not started', {
        publicMessage: 'start the enrolment first (POST /api/v1/auth/mfa/enrol)',
      });
    const secret = await grant.decrypt(CREDENTIALS, account.subjectId, totpRef(staffId), ciphertext);
    const step = secret ? await matchTotp(secret, code, now, null) : undefined;
    if (step === undefined)
      throw new AppError('validation_failed', 'enrolment code does not match', {
        publicMessage: 'code: does not match the authenticator; check the device clock and try again',
      });
    const recoveryCodes = Array.from({ length: RECOVERY_CODE_COUNT }, newRecoveryCode);
    await enableSecondFactor(atx.tx, grant, account, {
      at: now,
      step,
      recoveryCodeHashes: recoveryCodes.map(hashRecoveryCode),
    });
    atx.audit.record({
      actor: { kind: 'staff', id: String(staffId) },
      role: staffRole,
      purpose: STAFF_PURPOSE,
      action: 'mfa.enrol',
      subjectIds: [account.subjectId],
      decision: 'allowed',
    });
    if (onConfirmed) await onConfirmed(atx);
    return { recoveryCodes };
  });
}

/**
 * Checks a second factor during login: a TOTP code newer than the last accepted one, or an
 * unused recovery code (which is used up). The TOTP secret is read through the gate.
 */
export async function checkSecondFactor(
  kernel: Kernel,
  atx: AuditedTx,
  staffId: number,
  subjectId: number,
  code: string,
  now: Date,
): Promise<{ ok: true; method: 'totp' | 'recovery' } | { ok: false }> {
  // The account's state (no personal column); the secret or the codes only through the gate.
  const row = await atx.tx
    .selectFrom('staff_users')
    .select(['totp_enabled_at', 'totp_last_step'])
    .where('staff_id', '=', staffId)
    .where('subject_id', '=', subjectId)
    .executeTakeFirst();
  if (!row || row.totp_enabled_at === null) return { ok: false };
  const account = { staffId, subjectId };
  const isTotp = /^\d{6}$/.test(code);
  // A TOTP code reads the secret; a recovery code is used up (a write).
  const grant = await authorizeSignIn(kernel, atx, 'staff-auth', {
    purpose: STAFF_PURPOSE,
    action: isTotp ? 'read' : 'write',
    subjectId,
  });
  if (isTotp) {
    const ciphertext = await selectTotpSecret(atx.tx, grant, account);
    if (!ciphertext) return { ok: false };
    const secret = await grant.decrypt(CREDENTIALS, subjectId, totpRef(staffId), ciphertext);
    const step = secret ? await matchTotp(secret, code, now, row.totp_last_step) : undefined;
    if (step === undefined || !(await claimTimeStep(atx, staffId, step))) return { ok: false };
    return { ok: true, method: 'totp' };
  }
  const used = await useRecoveryCode(atx.tx, grant, account, hashRecoveryCode(code));
  return used ? { ok: true, method: 'recovery' } : { ok: false };
}

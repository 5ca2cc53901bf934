import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { z } from 'zod';
import type { Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { registerSubject } from '../../kernel/subjects/index.js';
import { AppError } from '../../platform/errors.js';

// argon2id with OWASP's suggested minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_OPTIONS = {
  algorithm: 2 /* Argon2id */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

/** The purpose under which staff accounts are managed (declared by every policy, decision 0006). */
export const STAFF_PURPOSE = 'staff_accounts';
const STAFF_CATEGORIES = ['user.name', 'user.contact.email', 'user.authorization.credentials'];

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
  const parsed = createStaffInputSchema.safeParse(input);
  if (!parsed.success) {
    throw new AppError('validation_failed', 'invalid staff input', {
      publicMessage: parsed.error.issues
        .map((issue) => `${issue.path.join('.')}: ${issue.message}`)
        .join('; '),
    });
  }
  const { policy } = await kernel.policies.current(tenantId);
  if (!policy.roles[parsed.data.role]) {
    throw new AppError('validation_failed', 'unknown role', {
      publicMessage: `role: "${parsed.data.role}" is not a role of this tenant's policy (${Object.keys(policy.roles).join(', ')})`,
    });
  }
  const oneTimePassword = randomBytes(15).toString('base64url');
  const passwordHash = await hashPassword(oneTimePassword);
  return kernel.transact(tenantId, async (atx) => {
    const existing = await atx.tx
      .selectFrom('staff_users')
      .select('staff_id')
      .where('email', '=', parsed.data.email)
      .executeTakeFirst();
    if (existing)
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
    grant.assertWritable();
    const row = await atx.tx
      .insertInto('staff_users')
      .values({
        tenant_id: tenantId,
        subject_id: subjectId,
        email: parsed.data.email,
        display_name: parsed.data.displayName,
        role: parsed.data.role,
        password_hash: passwordHash,
      })
      .returning(['staff_id', 'email', 'role'])
      .executeTakeFirstOrThrow();
    return { staffId: row.staff_id, email: row.email, role: row.role, oneTimePassword };
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

import { randomBytes } from 'node:crypto';
import { hash } from '@node-rs/argon2';
import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import { withTenant, type Db, type TenantId } from '../../platform/db.js';

// argon2id with OWASP's suggested minimum (19 MiB, 2 passes, 1 lane).
const ARGON2_OPTIONS = {
  algorithm: 2 /* Argon2id */,
  memoryCost: 19_456,
  timeCost: 2,
  parallelism: 1,
} as const;

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

/** Creates a staff account with a random one-time password that must be changed at first login. */
export async function createStaffUser(
  db: Db,
  tenantId: TenantId,
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
  const oneTimePassword = randomBytes(15).toString('base64url');
  const passwordHash = await hashPassword(oneTimePassword);
  return withTenant(db, tenantId, async (tx) => {
    const existing = await tx
      .selectFrom('staff_users')
      .select('staff_id')
      .where('email', '=', parsed.data.email)
      .executeTakeFirst();
    if (existing)
      throw new AppError('conflict', 'staff e-mail taken', {
        publicMessage: 'a staff user with this e-mail exists',
      });
    const row = await tx
      .insertInto('staff_users')
      .values({
        tenant_id: tenantId,
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

export async function countStaffUsers(db: Db, tenantId: TenantId): Promise<number> {
  return withTenant(db, tenantId, async (tx) => {
    const row = await tx
      .selectFrom('staff_users')
      .select((eb) => eb.fn.countAll<number>().as('count'))
      .executeTakeFirstOrThrow();
    return Number(row.count);
  });
}

import { z } from 'zod';
import type { StaffView } from './staff.service.js';
import type { ApiTokenView } from './token.service.js';

// The fields that may leave, listed one by one: never a password hash, TOTP secret, recovery
// code hash or token hash (they are not even selected by the services).

export const staffSchema = z.object({
  staffId: z.number().int(),
  email: z.string(),
  displayName: z.string(),
  role: z.string(),
  status: z.enum(['active', 'disabled']),
  mustChangePassword: z.boolean(),
  mfaEnabled: z.boolean(),
  isLocked: z.boolean(),
  createdAt: z.string(),
});

export function presentStaff(view: StaffView): z.infer<typeof staffSchema> {
  return {
    staffId: view.staffId,
    email: view.email,
    displayName: view.displayName,
    role: view.role,
    status: view.status,
    mustChangePassword: view.mustChangePassword,
    mfaEnabled: view.mfaEnabled,
    isLocked: view.isLocked,
    createdAt: view.createdAt.toISOString(),
  };
}

export const apiTokenSchema = z.object({
  tokenId: z.number().int(),
  label: z.string(),
  role: z.string(),
  createdBy: z.number().int(),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
  expiresAt: z.string().describe('after this moment the token is refused (401), as a revoked one'),
  status: z
    .enum(['active', 'expired', 'revoked'])
    .describe('active: opens the API; expired: its end has passed; revoked: revoked (whatever its end)'),
});

export function presentApiToken(view: ApiTokenView): z.infer<typeof apiTokenSchema> {
  return {
    tokenId: view.tokenId,
    label: view.label,
    role: view.role,
    createdBy: view.createdBy,
    createdAt: view.createdAt.toISOString(),
    lastUsedAt: view.lastUsedAt?.toISOString() ?? null,
    revokedAt: view.revokedAt?.toISOString() ?? null,
    expiresAt: view.expiresAt.toISOString(),
    status: view.status,
  };
}

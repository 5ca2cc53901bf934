import type { Kernel } from '../../kernel/kernel.js';
import { assertDossierKept, dossierPurposes } from './dossier.service.js';
import { countShareOpen, DEFAULT_SHARE_LIMITS, type ShareLimits } from './share-limits.js';
import { describeShareLink, openShareLink } from './share.service.js';
import type { SecretField } from './dossier.repository.js';

/** A call at the public door of a one-time share link: the tenant's slug, the token, who knocks. */
export interface ShareDoorCall {
  slug: string;
  token: string;
  /** The client's address (counted per hour, like the token). */
  address: string;
  limits?: ShareLimits;
}

/** The tenant of a share link's URL, which must keep a dossier, and its dossier purpose. */
async function shareTenant(kernel: Kernel, slug: string): Promise<{ tenantId: number; purpose: string }> {
  const tenant = await kernel.tenants.bySlug(slug);
  await assertDossierKept(kernel, tenant.tenantId);
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const [purpose] = dossierPurposes(policy);
  return { tenantId: tenant.tenantId, purpose: purpose ?? '' };
}

/**
 * What a link gives (which secret, until when), never the secret: counted like an opening, so a
 * look is no free probe. An unknown, used or expired link is `not_found`.
 */
export async function lookAtShareLink(
  kernel: Kernel,
  call: ShareDoorCall,
): Promise<{ field: SecretField; expiresAt: Date }> {
  const { tenantId, purpose } = await shareTenant(kernel, call.slug);
  await countShareOpen(kernel, call.limits ?? DEFAULT_SHARE_LIMITS, tenantId, {
    address: call.address,
    token: call.token,
  });
  return describeShareLink(kernel, tenantId, purpose, call.token);
}

/** Opens a link at its door: counted, then the secret once (share.service.ts `openShareLink`). */
export async function openShareLinkAtDoor(
  kernel: Kernel,
  call: ShareDoorCall,
): Promise<{ field: SecretField; value: string }> {
  const { tenantId, purpose } = await shareTenant(kernel, call.slug);
  await countShareOpen(kernel, call.limits ?? DEFAULT_SHARE_LIMITS, tenantId, {
    address: call.address,
    token: call.token,
  });
  return openShareLink(kernel, tenantId, purpose, call.token);
}

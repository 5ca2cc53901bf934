import type { FastifyRequest } from 'fastify';
import { z } from 'zod';
import { actorOf, staffOf } from '../../http/auth.js';
import { PURPOSE_HEADER, purposeOf } from '../../http/purpose.js';
import type { BillingContext } from './access.js';

/** The purpose header of billing's staff routes, as the OpenAPI document shows it. */
export const purposeHeaders = z
  .object({ [PURPOSE_HEADER]: z.string().optional().describe("purpose key of the tenant's policy") })
  .passthrough();

/**
 * Who acts, under the purpose named in the header: required, never one chosen on the caller's
 * behalf (VK-4; issue 10). The gate then decides whether the role may act under it.
 */
export function contextOf(request: FastifyRequest): BillingContext {
  const staff = staffOf(request);
  return {
    tenantId: staff.tenantId,
    actor: actorOf(staff),
    purpose: purposeOf(request),
    requestId: request.id,
  };
}

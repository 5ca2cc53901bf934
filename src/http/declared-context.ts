import type { FastifyRequest } from 'fastify';
import type { AccessContext } from '../kernel/gate/access.js';
import type { Actor } from '../kernel/gate/gate.js';
import { actorOf, staffOf } from './auth.js';
import { purposeOf } from './purpose.js';

/**
 * Who acts on a staff route, under the purpose the request declared: required, never one chosen on
 * the caller's behalf (VK-4; decision 0061). The gate then decides whether the role may act under it.
 */
export function declaredContext(
  request: FastifyRequest,
): AccessContext & { actor: Actor & { kind: 'staff' } } {
  const staff = staffOf(request);
  return {
    tenantId: staff.tenantId,
    actor: actorOf(staff),
    purpose: purposeOf(request),
    requestId: request.id,
  };
}

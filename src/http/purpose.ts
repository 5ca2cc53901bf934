import type { FastifyRequest } from 'fastify';
import type { Kernel } from '../kernel/kernel.js';
import { listPurposeKeysFor } from '../kernel/gate/gate.js';
import { authorityPurposeKeys, findPurpose } from '../kernel/policy/policy.query.js';
import type { Policy } from '../kernel/policy/policy.schema.js';
import { AppError } from '../platform/errors.js';

/** The header in which staff clients name the purpose they act under (DESIGN.md: every access names one). */
export const PURPOSE_HEADER = 'x-kluis-purpose';

const PURPOSE_KEY = /^[a-z][a-z0-9_]{1,60}$/;

const missingPurpose = (): AppError =>
  new AppError('validation_failed', 'missing purpose header', {
    publicMessage: `name the purpose of this access in the ${PURPOSE_HEADER} header (a purpose key of the tenant's policy)`,
  });

export function purposeOf(request: FastifyRequest): string {
  const value = request.headers[PURPOSE_HEADER];
  if (typeof value !== 'string' || !PURPOSE_KEY.test(value)) throw missingPurpose();
  return value;
}

/**
 * The one purpose of a fixed-purpose route: a key, or read from the tenant's policy (the incident
 * register's `incidents.purpose`, the rights purpose); undefined when the policy names none (the
 * route itself then refuses the work).
 */
export type RoutePurpose = string | ((policy: Policy) => string | undefined);

/**
 * Checks a declared purpose at the door, before any route code runs: when the header is there it
 * must be one purpose key of the tenant's policy (an unknown key, `constructor` included, is bad
 * input: 400). Whether the role may act under it is the gate's decision (audited). Looked up as
 * an own key of the policy, never on an object's prototype. On a route whose work has one
 * purpose by nature (`routePurpose`), a declared purpose that is another one is refused with
 * `purpose_not_allowed` (403): used or refused, never substituted (decision 0061).
 */
export async function checkDeclaredPurpose(
  kernel: Kernel,
  request: FastifyRequest,
  tenantId: number,
  route: { purpose?: RoutePurpose; authorityNames?: boolean; disclosure?: boolean } = {},
): Promise<void> {
  const purposeOfRoute = route.purpose;
  const value = request.headers[PURPOSE_HEADER];
  if (value === undefined) return;
  if (typeof value !== 'string' || !PURPOSE_KEY.test(value)) throw missingPurpose();
  // One read of the policy for the whole check: it runs at the door of every staff request.
  const { policy } = await kernel.policies.current(tenantId);
  assertPurposeOfPolicy(policy, request, value, `headers/${PURPOSE_HEADER}`);
  const routePurpose = typeof purposeOfRoute === 'function' ? purposeOfRoute(policy) : purposeOfRoute;
  if (routePurpose === undefined && !route.authorityNames && authorityPurposeKeys(policy).includes(value)) {
    // Data goes to an authority only through a request a second person approved (decision 0151):
    // an ordinary route under that purpose would be one person's read, and the person's access
    // report leaves that purpose out (attack S16-3, decision 0816).
    throw new AppError('purpose_not_allowed', 'an authority purpose on an ordinary route', {
      publicMessage: `${value} is used only through authority requests (/api/v1/authority-requests), registered by one person and approved by another`,
      details: { issues: [{ path: `headers/${PURPOSE_HEADER}`, message: 'authority requests only' }] },
    });
  }
  if (routePurpose !== undefined && value !== routePurpose) {
    throw new AppError('purpose_not_allowed', 'declared purpose is not the route purpose', {
      publicMessage: `this route acts under ${routePurpose} only; ${PURPOSE_HEADER} names another purpose`,
      details: {
        issues: [{ path: `headers/${PURPOSE_HEADER}`, message: `not ${routePurpose}` }],
        validPurposes: [routePurpose],
      },
    });
  }
  if (!route.disclosure && findPurpose(policy, value)?.disclosureOnly) {
    // A purpose tied to an event (the sale of the business) serves that disclosure only, logged as
    // one; everyday reads and writes under it would be recorded as that event (attack S18-12).
    throw new AppError('purpose_not_allowed', 'a disclosure-only purpose on an ordinary route', {
      publicMessage: `${value} is used only to disclose data to its recipients (POST /api/v1/recipients/{recipient}/exports), each disclosure logged`,
      details: { issues: [{ path: `headers/${PURPOSE_HEADER}`, message: 'disclosures only' }] },
    });
  }
}

/**
 * A purpose named anywhere in a request (the header, or a parameter such as `callsPurpose`) must
 * be a purpose key of the tenant's policy: an unknown key is bad input (400 `validation_failed`,
 * with the purposes the caller's role may act under), never read as "no purpose" and never
 * replaced by another one (decision 0061).
 */
export async function checkKnownPurpose(
  kernel: Kernel,
  request: FastifyRequest,
  tenantId: number,
  value: string,
  path: string,
): Promise<void> {
  const { policy } = await kernel.policies.current(tenantId);
  assertPurposeOfPolicy(policy, request, value, path);
}

function assertPurposeOfPolicy(policy: Policy, request: FastifyRequest, value: string, path: string): void {
  if (findPurpose(policy, value)) return;
  // The caller can correct itself: the purposes its role may act under (GET /api/v1/me/purposes).
  const validPurposes = request.staff
    ? listPurposeKeysFor(policy, { kind: 'staff', staffId: request.staff.staffId, role: request.staff.role })
    : [];
  const where = path.startsWith('headers/') ? PURPOSE_HEADER : path.slice(path.indexOf('/') + 1);
  throw new AppError('validation_failed', 'unknown purpose', {
    publicMessage: `${where}: not a purpose of this tenant's policy`,
    details: { issues: [{ path, message: 'unknown purpose' }], validPurposes },
  });
}

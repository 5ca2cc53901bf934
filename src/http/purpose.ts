import type { FastifyRequest } from 'fastify';
import { AppError } from '../platform/errors.js';

/** The header in which staff clients name the purpose they act under (DESIGN.md: every access names one). */
export const PURPOSE_HEADER = 'x-kluis-purpose';

export function purposeOf(request: FastifyRequest): string {
  const value = request.headers[PURPOSE_HEADER];
  if (typeof value !== 'string' || !/^[a-z][a-z0-9_]{1,60}$/.test(value)) {
    throw new AppError('validation_failed', 'missing purpose header', {
      publicMessage: `name the purpose of this access in the ${PURPOSE_HEADER} header (a purpose key of the tenant's policy)`,
    });
  }
  return value;
}

import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';

/**
 * One pagination style for every list (decision 0085): `limit` and an opaque `cursor` in the
 * query; the page answers `{ items, nextCursor }` (null on the last page) and, when there is a
 * next page, an RFC 8288 `Link: <…>; rel="next"` header with the same query and the new cursor.
 */
export const CURSOR = z
  .string()
  .regex(/^[A-Za-z0-9_-]{1,200}$/, 'a cursor from a previous page (nextCursor)')
  .describe('the nextCursor of the previous page');

export function pageQuery(options: { defaultLimit?: number; maxLimit?: number } = {}) {
  return {
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(options.maxLimit ?? 200)
      .default(options.defaultLimit ?? 50)
      .describe('page size'),
    cursor: CURSOR.optional(),
  };
}

/** A cursor that is an id (keyset on a serial key), or a 400 naming the query parameter. */
export const ID_CURSOR = z
  .string()
  .regex(/^\d{1,15}$/, 'a cursor from a previous page (nextCursor)')
  .describe('the nextCursor of the previous page');

/** Adds the `Link: rel="next"` header for a page whose body names a next cursor. */
export function linkNextPage(request: FastifyRequest, reply: FastifyReply, payload: unknown): void {
  if (typeof payload !== 'object' || payload === null || !('nextCursor' in payload)) return;
  const next = payload.nextCursor;
  if (typeof next !== 'string' || next === '') return;
  const url = new URL(request.url, 'http://kluis.invalid');
  url.searchParams.set('cursor', next);
  reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
}

import type { FastifyInstance } from 'fastify';
import { AppError } from '../platform/errors.js';

/**
 * An unpaired UTF-16 surrogate, or NUL: text no person typed. A lone surrogate is turned into
 * U+FFFD when stored (so what was sent is not what is kept) and breaks `encodeURIComponent`; NUL is
 * refused by PostgreSQL. With the `u` flag, `\p{Surrogate}` matches only surrogates that are not
 * part of a pair.
 */
const NOT_TEXT = /\p{Surrogate}|\0/u;

/** The first place in `value` (a parsed body, query or params) that holds such a string, if any. */
export function findIllFormedText(value: unknown, where: string): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: where }];
  for (let next = stack.pop(); next !== undefined; next = stack.pop()) {
    const current = next.value;
    if (typeof current === 'string') {
      if (NOT_TEXT.test(current)) return next.path;
      continue;
    }
    if (current === null || typeof current !== 'object' || Buffer.isBuffer(current)) continue;
    for (const [key, child] of Object.entries(current)) {
      if (NOT_TEXT.test(key)) return next.path;
      stack.push({ value: child, path: `${next.path}/${key}` });
    }
  }
  return undefined;
}

/**
 * Every string a request carries in its body, query and path is well-formed text (attack S19-1:
 * a lone surrogate in the visit beacon's page answered 500; S19-3: in any other text field it was
 * stored as U+FFFD). Refused with 400 before validation, so nothing is changed.
 */
export function refuseIllFormedText(app: FastifyInstance): void {
  app.addHook('preValidation', (request, _reply, done) => {
    const path =
      findIllFormedText(request.params, 'params') ??
      findIllFormedText(request.query, 'querystring') ??
      findIllFormedText(request.body, 'body');
    if (path === undefined) return done();
    done(
      new AppError('validation_failed', `ill-formed text at ${path}`, {
        publicMessage:
          'the request holds text that is not valid Unicode (a lone surrogate or a NUL character)',
        details: { issues: [{ path, message: 'not valid Unicode text' }] },
      }),
    );
  });
}

import { randomBytes, timingSafeEqual, createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Kernel } from '../../kernel/kernel.js';
import type { Language } from '../../kernel/policy/policy.schema.js';
import { chooseLanguage } from '../../kernel/tenant-policy/tenant-policy.routes.js';
import { AppError } from '../../platform/errors.js';
import { addPeriod } from '../../platform/calendar.js';
import { isLanguage, type PortalFrame } from './layout.js';
import { readPortalTheme } from './theme.js';

/** The language a visitor chose with the switcher; remembered for the tenant's portal only. */
export const LANGUAGE_COOKIE = 'kluis_lang';
/** Double-submit token of the public forms (no session there): cookie and hidden field must match. */
export const FORM_COOKIE = 'kluis_form';

export interface FrameOptions {
  /** The logged-in person's own language, which comes before the browser's. */
  personLanguage?: string | null;
  secureCookies: boolean;
  /**
   * Whether `?lang=` is remembered in a cookie (default yes). The unsubscribe page sets no cookie
   * (VK-18): there the choice travels in the links only.
   */
  rememberLanguage?: boolean;
}

/**
 * Whose portal and in which language: `?lang=` (the switcher, remembered in a cookie), then the
 * remembered choice, then the person's own language, then Accept-Language, then the policy's first.
 */
export async function loadFrame(
  kernel: Kernel,
  request: FastifyRequest,
  reply: FastifyReply,
  slug: string,
  options: FrameOptions,
): Promise<PortalFrame> {
  const tenant = await kernel.tenants.bySlug(slug);
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const languages = policy.statement.languages;
  const query = (request.query as { lang?: unknown } | undefined)?.lang;
  const base = `/t/${tenant.slug}`;
  const offered = (value: unknown): value is Language => isLanguage(value) && languages.includes(value);
  let lang: Language;
  if (offered(query)) {
    lang = query;
    // Remembered only when the policy declares the cookie, for as long as it says (M9.8).
    const declared = policy.cookies.items.find((cookie) => cookie.name === LANGUAGE_COOKIE);
    if (declared && options.rememberLanguage !== false) {
      const now = kernel.clock.now();
      const maxAge =
        declared.lifetime === 'session'
          ? undefined
          : Math.round((addPeriod(now, declared.lifetime).getTime() - now.getTime()) / 1000);
      void reply.setCookie(LANGUAGE_COOKIE, query, {
        path: `${base}/`,
        httpOnly: true,
        sameSite: 'lax',
        ...(maxAge === undefined ? {} : { maxAge }),
        secure: options.secureCookies,
      });
    }
  } else {
    const remembered = request.cookies[LANGUAGE_COOKIE];
    if (offered(remembered)) lang = remembered;
    else if (offered(options.personLanguage)) lang = options.personLanguage;
    else lang = chooseLanguage(policy, undefined, request.headers['accept-language']);
  }
  const theme = await readPortalTheme(kernel, tenant.tenantId);
  void reply.header('content-language', lang).header('vary', 'accept-language, cookie');
  return { tenant, policy, lang, theme, base, languages };
}

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

/** The token for a public form: reuses the visitor's cookie, or sets a new one (SameSite=Strict). */
export function formToken(
  request: FastifyRequest,
  reply: FastifyReply,
  base: string,
  secure: boolean,
): string {
  const existing = request.cookies[FORM_COOKIE];
  if (existing && /^[A-Za-z0-9_-]{43}$/.test(existing)) return existing;
  const token = randomBytes(32).toString('base64url');
  void reply.setCookie(FORM_COOKIE, token, { path: `${base}/`, httpOnly: true, sameSite: 'strict', secure });
  return token;
}

/**
 * A public form's POST must carry the token of its own cookie: a page of another site cannot read
 * the cookie, and a SameSite=Strict cookie does not travel with its cross-site POST anyway.
 */
export function assertFormToken(request: FastifyRequest, field: unknown): void {
  const cookie = request.cookies[FORM_COOKIE] ?? '';
  const given = typeof field === 'string' ? field : '';
  const site = request.headers['sec-fetch-site'];
  if (site === 'cross-site' || cookie === '' || !timingSafeEqual(sha256(cookie), sha256(given)))
    throw new AppError('forbidden', 'form token mismatch', { publicMessage: 'missing or wrong form token' });
}

/** Form bodies: `application/x-www-form-urlencoded`, repeated names kept as lists. */
export type FormBody = Record<string, string | string[]>;

export function parseFormBody(body: string): FormBody {
  const out: FormBody = {};
  for (const [key, value] of new URLSearchParams(body)) {
    const previous = out[key];
    if (previous === undefined) out[key] = value;
    else out[key] = Array.isArray(previous) ? [...previous, value] : [previous, value];
  }
  return out;
}

export const fieldOf = (body: FormBody | undefined, name: string): string => {
  const value = body?.[name];
  return (Array.isArray(value) ? value[0] : value)?.trim() ?? '';
};

export const fieldsOf = (body: FormBody | undefined, name: string): string[] => {
  const value = body?.[name];
  return value === undefined ? [] : Array.isArray(value) ? value : [value];
};

import type { FastifyInstance } from 'fastify';
import type { SmtpSink } from '../../../test/smtp.js';
import type { StaffSession } from '../../../test/http.js';
import { unzip } from '../../../test/zip.js';
import { AccessReportSchema, type AccessReport } from '../../kernel/access-report/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson, type Person } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { followLink } from '../../../test/link-button.js';

let serial = 0;

/** A customer with every field a person's file holds (created under a contract purpose). */
export async function createCustomer(
  kernel: Kernel,
  tenant: Tenant,
  purpose: string,
  overrides: Record<string, unknown> = {},
): Promise<Person> {
  serial += 1;
  const tag = `${serial}${Math.random().toString(36).slice(2, 6)}`;
  return createPerson(
    kernel,
    { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose },
    {
      subjectType: 'customer',
      familyName: `Vermeulen${tag}`,
      givenName: 'Lotte',
      email: `lotte.${tag}@mail.example`,
      phone: `+3247755${String(serial).padStart(4, '0')}`,
      address: { street: `Kerkstraat ${serial}`, postalCode: '8500', city: 'Kortrijk', country: 'BE' },
      ...overrides,
    },
  );
}

/** A staff call with the session's cookie and CSRF token and, when given, a declared purpose. */
export function staffCall(
  app: FastifyInstance,
  session: StaffSession,
  method: 'GET' | 'POST' | 'PUT',
  url: string,
  options: { purpose?: string; payload?: unknown } = {},
) {
  return app.inject({
    method,
    url,
    headers: {
      cookie: session.cookie,
      'x-csrf-token': session.csrfToken,
      ...(options.purpose ? { 'x-kluis-purpose': options.purpose } : {}),
    },
    ...(options.payload === undefined ? {} : { payload: options.payload as Record<string, unknown> }),
  });
}

/**
 * The person's access report as they get it: the public request form, the code mailed to the
 * address on file, the single-use download link mailed after verification, the ZIP's JSON.
 */
export async function accessReportOf(
  app: FastifyInstance,
  smtp: SmtpSink,
  tenant: Tenant,
  email: string,
  publicUrl: string,
): Promise<AccessReport> {
  const before = smtp.to(email).length;
  const submitted = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/privacy/requests`,
    payload: { kind: 'access', email, language: 'en' },
  });
  if (submitted.statusCode !== 202) throw new Error(`request form: ${submitted.body}`);
  const codeMail = await smtp.waitFor(email, before + 1);
  const code = /\b(\d{6})\b/.exec(codeMail.text ?? '')?.[1] ?? '';
  const verified = await app.inject({
    method: 'POST',
    url: `/t/${tenant.slug}/privacy/requests/${submitted.json<{ requestId: string }>().requestId}/verify`,
    payload: { code },
  });
  if (verified.statusCode !== 200) throw new Error(`verify: ${verified.body}`);
  const linkMail = await smtp.waitFor(email, before + 2);
  const link = new RegExp(`(${publicUrl.replace(/\./g, '\\.')}\\S+)`).exec(linkMail.text ?? '')?.[1] ?? '';
  const download = await followLink(app, link.replace(publicUrl, ''));
  if (download.statusCode !== 200) throw new Error(`download: ${download.statusCode}`);
  const files = await unzip(download.rawPayload);
  return AccessReportSchema.parse(JSON.parse(files.get('access-report.json') ?? '{}'));
}

import type { KeyObject } from 'node:crypto';
import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import type { StaffSession } from '../../../test/http.js';
import type { Kernel } from '../../kernel/kernel.js';
import { createPerson } from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { createMailing, queueMailing } from './index.js';

/**
 * `count` customers with an e-mail address (`<prefix, lower case><n>@mail.example`) and a mailing queued to
 * them by sales under the customers' newsletter purpose: what the sender tests start from.
 */
export async function queuedMailingTo(
  kernel: Kernel,
  tenant: Tenant,
  prefix: string,
  count: number,
): Promise<{ mailingId: number; addresses: string[]; pending: number }> {
  const addresses: string[] = [];
  for (let index = 1; index <= count; index += 1) {
    const email = `${prefix.toLowerCase()}${index}@mail.example`;
    addresses.push(email);
    await createPerson(
      kernel,
      { tenantId: tenant.tenantId, actor: { kind: 'system', job: 'test' }, purpose: 'order_processing' },
      { subjectType: 'customer', familyName: `${prefix}${index}`, givenName: 'Kim', email },
    );
  }
  const context = {
    tenantId: tenant.tenantId,
    actor: { kind: 'staff', staffId: 1, role: 'sales' } as const,
    purpose: 'newsletter_customers',
  };
  const mailing = await createMailing(kernel, context, {
    texts: { nl: { subject: 'Eens', body: 'Eén keer.' } },
  });
  const queued = await queueMailing(kernel, context, mailing.mailingId);
  return { mailingId: mailing.mailingId, addresses, pending: queued.recipients.pending };
}

/** VoiceKing's sender address and DKIM key put by its admin over HTTP, as an operator would. */
export function putVoicekingMailSettings(
  app: FastifyInstance,
  admin: StaffSession,
  privateKey: KeyObject,
): Promise<LightMyRequestResponse> {
  return app.inject({
    method: 'PUT',
    url: '/api/v1/mail-settings',
    headers: { cookie: admin.cookie, 'x-csrf-token': admin.csrfToken, 'x-kluis-purpose': 'staff_accounts' },
    payload: {
      fromAddress: 'news@voiceking.be',
      dkim: {
        domain: 'voiceking.be',
        selector: 'k2026',
        privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      },
      ratePerSecond: 1000,
    },
  });
}

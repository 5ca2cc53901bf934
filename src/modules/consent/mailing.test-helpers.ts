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

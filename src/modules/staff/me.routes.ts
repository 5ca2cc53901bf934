import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import { CAPABILITY_KEYS, capabilitiesOf } from '../../http/capabilities.js';
import type { Kernel } from '../../kernel/kernel.js';
import { authorityPurposeKeys } from '../../kernel/policy/policy.query.js';
import { holderTypesFor } from '../contracts/index.js';

const localized = z.object({ nl: z.string(), fr: z.string(), en: z.string() });

const purposesSchema = z.object({
  role: z.object({ key: z.string(), label: localized.nullable() }),
  purposes: z.array(
    z.object({
      key: z.string().describe('the value to send in the x-kluis-purpose header'),
      label: localized,
      legalBasis: z.string(),
      subjectTypes: z.array(z.string()),
      categories: z.array(z.string()),
      newsletter: z
        .boolean()
        .describe("mailings are sent under this purpose (the policy's newsletter section)"),
      authorityRequestsOnly: z
        .boolean()
        .describe(
          'a purpose of an authority recipient: used only through /api/v1/authority-requests, refused on every other route',
        ),
      disclosureOnly: z
        .boolean()
        .describe(
          'used only to disclose data to its recipients (POST /api/v1/recipients/{recipient}/exports), refused on every other route (decision 0872)',
        ),
    }),
  ),
  capabilities: z
    .array(
      z.object({
        key: z.enum(CAPABILITY_KEYS),
        purposes: z
          .array(z.string())
          .describe(
            'the purposes of the role under which these routes answer; empty for a rule by role alone',
          ),
      }),
    )
    .describe(
      'what the role may use, each decided by the rule of the routes behind it (decision 0845): a client offers a screen, tab or button only when its capability is listed',
    ),
  holderTypes: z
    .object({
      quote: z.array(z.string()).nullable(),
      order: z.array(z.string()).nullable(),
      contract: z.array(z.string()).nullable(),
    })
    .describe(
      'the subject types a quote, order or contract may be for: the types the billing purposes cover (a quote also a prospect, who becomes a customer on accepting it); null: not limited. Others are refused 422 holder_not_billable (decisions 0941, 1030); a client offers only these',
    ),
});

/**
 * What the signed-in staff member (or API token) may do: the purposes of the tenant's policy in
 * force that list their role, with their labels, so a client need not know that one provider
 * bills under `billing` and another under `invoicing`.
 */
export function registerMeRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/api/v1/me/purposes',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'The purposes the signed-in role may act under, with labels in nl/fr/en',
        description:
          'Send one of these keys in the `x-kluis-purpose` header. The list follows the policy in force.',
        tags: ['auth'],
        response: { 200: purposesSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const { policy } = await kernel.policies.current(staff.tenantId);
      const newsletter = policy.newsletter;
      const role = Object.hasOwn(policy.roles, staff.role) ? policy.roles[staff.role] : undefined;
      const authorityPurposes = authorityPurposeKeys(policy);
      return {
        role: { key: staff.role, label: role?.label ?? null },
        purposes: Object.entries(policy.purposes)
          .filter(([, purpose]) => purpose.roles.includes(staff.role))
          .sort(([a], [b]) => a.localeCompare(b))
          .map(([key, purpose]) => ({
            key,
            label: purpose.label,
            legalBasis: purpose.legalBasis,
            subjectTypes: [...purpose.subjectTypes],
            categories: [...purpose.categories],
            newsletter: key === newsletter?.legitimateInterest.purpose || key === newsletter?.optIn?.purpose,
            authorityRequestsOnly: authorityPurposes.includes(key),
            disclosureOnly: purpose.disclosureOnly,
          })),
        capabilities: capabilitiesOf(policy, staff.role),
        holderTypes: {
          quote: holderTypesFor(policy, 'quote') ?? null,
          order: holderTypesFor(policy, 'order') ?? null,
          contract: holderTypesFor(policy, 'contract') ?? null,
        },
      };
    },
  );
}

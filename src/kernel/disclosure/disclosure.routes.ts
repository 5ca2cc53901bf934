/**
 * The disclosure log as a list (issue 20): every disclosure to a recipient of the policy, newest
 * first, filtered by recipient and period, for the privacy officer. The log names people only by
 * pseudonym in its own table and holds no personal data (decision 0150). The route has one
 * purpose by nature, the policy's rights purpose (decision 0061): another declared purpose is
 * refused, and each read is audited under it.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import { AppError } from '../../platform/errors.js';
import { rightsPurposeOf } from '../audit/audit.trail.js';
import { auditActor } from '../gate/gate.js';
import type { Kernel } from '../kernel.js';
import type { LocalizedText } from '../policy/policy.schema.js';

const day = z.iso.date();
const labelMap = z.record(z.string(), z.object({ nl: z.string(), fr: z.string(), en: z.string() }));

function labelsOf(keys: Iterable<string>, table: Record<string, { label: LocalizedText }>) {
  return Object.fromEntries(
    [...new Set(keys)].flatMap((key) => {
      const label = Object.hasOwn(table, key) ? table[key]?.label : undefined;
      return label ? [[key, label]] : [];
    }),
  );
}

export function registerDisclosureRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/api/v1/disclosures',
    {
      onRequest: requireStaff(kernel, { purpose: rightsPurposeOf }),
      schema: {
        summary: 'The disclosure log: what went to which recipient, when, why and under which ground (VK-10)',
        description:
          "Newest first; `recipient` (a recipient key of the policy) and `from`/`to` (days, UTC, `to` inclusive) filter before the page is cut. For the roles of the policy's purpose for rights requests (the privacy officer): the log includes disclosures to authorities under a silence they imposed.",
        tags: ['recipients'],
        querystring: z.object({
          ...pageQuery(),
          cursor: ID_CURSOR.optional(),
          recipient: z
            .string()
            .regex(/^[a-z][a-z0-9_]{0,60}$/)
            .optional(),
          from: day.optional(),
          to: day.optional(),
        }),
        response: {
          200: z.object({
            items: z.array(
              z.object({
                disclosureId: z.number().int(),
                at: z.string(),
                recipient: z.string(),
                recipientKind: z.string(),
                destinationCountry: z.string(),
                purpose: z.string(),
                legalBasis: z.string(),
                categories: z.array(z.string()),
                people: z.number().int().describe('how many people the disclosure concerned'),
                actor: z.object({ kind: z.string(), id: z.string() }),
                role: z.string().nullable(),
                reference: z.string(),
                authorityRequestId: z.number().int().nullable(),
                confidentialUntil: z.string().nullable(),
              }),
            ),
            nextCursor: z.string().nullable(),
            labels: z
              .object({ purposes: labelMap, categories: labelMap })
              .describe("the policy's labels of the purposes and categories on this page"),
          }),
        },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const { policy } = await kernel.policies.current(staff.tenantId);
      const rights = rightsPurposeOf(policy);
      if (rights === undefined || !policy.purposes[rights]?.roles.includes(staff.role))
        throw new AppError('forbidden', 'role may not read the disclosure log', {
          publicMessage: 'only the privacy officer reads the disclosure log',
        });
      const { limit, cursor, recipient, from, to } = request.query;
      if (from !== undefined && to !== undefined && from > to)
        throw new AppError('validation_failed', 'from after to', {
          publicMessage: 'from must not be after to',
          details: { issues: [{ path: 'querystring/from', message: 'after to' }] },
        });
      const rows = await kernel.transact(staff.tenantId, async ({ tx, audit }) => {
        let query = tx.selectFrom('disclosures').selectAll();
        if (cursor !== undefined) query = query.where('disclosure_id', '<', Number(cursor));
        if (recipient !== undefined) query = query.where('recipient', '=', recipient);
        if (from !== undefined) query = query.where('at', '>=', new Date(`${from}T00:00:00Z`));
        if (to !== undefined)
          query = query.where('at', '<', new Date(Date.parse(`${to}T00:00:00Z`) + 86_400_000));
        const page = await query
          .orderBy('disclosure_id', 'desc')
          .limit(limit + 1)
          .execute();
        audit.record({
          actor: auditActor(actorOf(staff)),
          role: staff.role,
          purpose: rights,
          action: 'disclosure.list',
          records: Math.min(page.length, limit),
          decision: 'allowed',
          requestId: request.id,
        });
        return page;
      });
      const shown = rows.slice(0, limit);
      return {
        items: shown.map((row) => ({
          disclosureId: Number(row.disclosure_id),
          at: row.at.toISOString(),
          recipient: row.recipient,
          recipientKind: row.recipient_kind,
          destinationCountry: row.destination_country,
          purpose: row.purpose,
          legalBasis: row.legal_basis,
          categories: row.categories,
          people: row.subject_count,
          actor: { kind: row.actor_kind, id: row.actor_id },
          role: row.role,
          reference: row.reference,
          authorityRequestId: row.authority_request_id === null ? null : Number(row.authority_request_id),
          confidentialUntil: row.confidential_until === null ? null : String(row.confidential_until),
        })),
        nextCursor: rows.length > limit ? String(shown.at(-1)?.disclosure_id ?? '') : null,
        labels: {
          purposes: labelsOf(
            shown.map((row) => row.purpose),
            policy.purposes,
          ),
          categories: labelsOf(
            shown.flatMap((row) => row.categories),
            policy.categories,
          ),
        },
      };
    },
  );
}

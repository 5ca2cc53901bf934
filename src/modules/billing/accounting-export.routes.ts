import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { isHeadRequest, sendHeadersOnly } from '../../http/head.js';
import type { Kernel } from '../../kernel/kernel.js';
import {
  mayOpenAccountingCsv,
  openAccountingCsv,
  parseAccountingPeriod,
} from './accounting-export.service.js';
import { purposeHeaders } from './request-context.js';
import { purposeOf } from './access.js';

const day = z.string().max(10).describe('a date as YYYY-MM-DD');

/**
 * The bookkeeper's CSV of a period (issue 22): GET /api/v1/accounting/export. A fixed-purpose
 * route (decision 0473): it acts under the policy's accounting purpose only; a declared purpose
 * that is another one is refused (decision 0061), however much of the payment data it covers.
 */
export function registerAccountingExportRoutes(app: FastifyInstance, kernel: Kernel): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/accounting/export',
    {
      onRequest: requireStaff(kernel, {
        purpose: (policy) => (Object.hasOwn(policy.purposes, 'accounting') ? 'accounting' : undefined),
      }),
      schema: {
        summary:
          'CSV for the bookkeeper: invoices and credit notes issued in the period (a row per VAT group; amounts positive, the type says which way) and payments received in it; streamed. Under the accounting purpose only',
        tags: ['billing'],
        headers: purposeHeaders,
        querystring: z.object({
          from: day.describe('first day of the period (YYYY-MM-DD)'),
          to: day.describe('last day of the period, inclusive (YYYY-MM-DD)'),
        }),
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const period = parseAccountingPeriod(request.query.from, request.query.to, kernel.clock.now());
      const staff = staffOf(request);
      const { policy } = await kernel.policies.current(staff.tenantId);
      // The header, when sent, named this purpose (checked at the door); a policy without one refuses.
      const context = {
        tenantId: staff.tenantId,
        actor: actorOf(staff),
        purpose: purposeOf(policy, 'accounting'),
        requestId: request.id,
      };
      void reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="accounting-${period.from}-${period.to}.csv"`)
        .header('cache-control', 'no-store');
      // A HEAD the gate would allow reads nothing and writes no audit entry (decision 0580).
      if (isHeadRequest(request) && (await mayOpenAccountingCsv(kernel, context)))
        return sendHeadersOnly(reply);
      return reply.send(Readable.from(await openAccountingCsv(kernel, context, period)));
    },
  );
}

import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { PURPOSE_HEADER, purposeOf } from '../../http/purpose.js';
import type { Kernel } from '../../kernel/kernel.js';
import { openAccountingCsv, parseAccountingPeriod } from './accounting-export.service.js';

const day = z.string().max(10).describe('a date as YYYY-MM-DD');

/** The bookkeeper's CSV of a period (issue 22): GET /api/v1/accounting/export. */
export function registerAccountingExportRoutes(app: FastifyInstance, kernel: Kernel): void {
  app.withTypeProvider<ZodTypeProvider>().get(
    '/api/v1/accounting/export',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary:
          'CSV for the bookkeeper: invoices and credit notes issued in the period (a row per VAT group; amounts positive, the type says which way) and payments received in it; streamed',
        tags: ['billing'],
        headers: z
          .object({ [PURPOSE_HEADER]: z.string().optional().describe("purpose key of the tenant's policy") })
          .passthrough(),
        querystring: z.object({
          from: day.describe('first day of the period (YYYY-MM-DD)'),
          to: day.describe('last day of the period, inclusive (YYYY-MM-DD)'),
        }),
        produces: ['text/csv'],
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const period = parseAccountingPeriod(request.query.from, request.query.to);
      const lines = await openAccountingCsv(
        kernel,
        {
          tenantId: staff.tenantId,
          actor: actorOf(staff),
          purpose: purposeOf(request),
          requestId: request.id,
        },
        period,
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="accounting-${period.from}-${period.to}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  );
}

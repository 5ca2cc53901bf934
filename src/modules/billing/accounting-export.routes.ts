import { Readable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { openAccountingCsv, parseAccountingPeriod } from './accounting-export.service.js';
import { purposeHeaders } from './request-context.js';
import { declaredContext } from '../../http/declared-context.js';

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
      const lines = await openAccountingCsv(kernel, declaredContext(request), period);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="accounting-${period.from}-${period.to}.csv"`)
        .header('cache-control', 'no-store')
        .send(Readable.from(lines));
    },
  );
}

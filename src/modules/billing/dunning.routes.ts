import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { INVOICE_STATUSES } from './billing.tables.js';
import {
  closeCollection,
  listInvoiceReminders,
  markSentForCollection,
  type CollectionState,
} from './dunning.service.js';
import { purposeHeaders } from './request-context.js';
import { declaredContext } from '../../http/declared-context.js';

const params = z.object({ id: z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

/** How a hand-over closed (decision 0465): settled by payment or credit note, or by staff. */
const closedBecause = z.enum(['paid', 'credited', 'staff']).nullable();

const collectionState = z.object({
  invoiceId: z.number().int(),
  invoiceNumber: z.string(),
  sentForCollectionAt: z.string(),
  collectionClosedAt: z.string().nullable(),
  collectionClosedBecause: closedBecause,
});

const collectionJson = (state: CollectionState) => ({
  ...state,
  sentForCollectionAt: state.sentForCollectionAt.toISOString(),
  collectionClosedAt: state.collectionClosedAt?.toISOString() ?? null,
});

/** Dunning (issue 22, decision 0300): an invoice's reminders, and its hand-over for collection. */
export function registerDunningRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  typed.get(
    '/api/v1/invoices/:id/reminders',
    {
      onRequest,
      schema: {
        summary:
          'The reminders an invoice got (first, second, formal notice: when, pay-by day, amount, whether mailed), whether it is disputed, when it went to collection and when and why that hand-over closed (while open it holds the customer from erasure)',
        tags: ['billing'],
        headers: purposeHeaders,
        params,
        response: {
          200: z.object({
            invoiceId: z.number().int(),
            invoiceNumber: z.string(),
            status: z.enum(INVOICE_STATUSES),
            balanceCents: z.number().int(),
            disputed: z.boolean(),
            sentForCollectionAt: z.string().nullable(),
            collectionClosedAt: z.string().nullable(),
            collectionClosedBecause: closedBecause,
            reminders: z.array(
              z.object({
                level: z.number().int(),
                kind: z.enum(['first_reminder', 'second_reminder', 'formal_notice']),
                sentOn: z.string(),
                payBy: z.string(),
                balanceCents: z.number().int(),
                mailed: z.boolean(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const dunning = await listInvoiceReminders(kernel, declaredContext(request), request.params.id);
      return {
        ...dunning,
        sentForCollectionAt: dunning.sentForCollectionAt?.toISOString() ?? null,
        collectionClosedAt: dunning.collectionClosedAt?.toISOString() ?? null,
      };
    },
  );
  typed.post(
    '/api/v1/invoices/:id/collection',
    {
      onRequest,
      schema: {
        summary:
          'Record that an invoice was handed over for collection after its formal notice: no more reminders, and its customer cannot be erased while the hand-over is open (once; 409 before the formal notice, while disputed or when paid)',
        tags: ['billing'],
        headers: purposeHeaders,
        params,
        response: {
          201: z.object({
            invoiceId: z.number().int(),
            invoiceNumber: z.string(),
            sentForCollectionAt: z.string(),
          }),
        },
      },
    },
    async (request, reply) => {
      const marked = await markSentForCollection(kernel, declaredContext(request), request.params.id);
      return reply
        .status(201)
        .send({ ...marked, sentForCollectionAt: marked.sentForCollectionAt.toISOString() });
    },
  );
  typed.post(
    '/api/v1/invoices/:id/collection/close',
    {
      onRequest,
      schema: {
        summary:
          'Close an invoice’s hand-over for collection (returned by the agency, written off, settled outside the books): it no longer holds the customer from erasure. Idempotent (a closed one is answered as it stands); 409 when not handed over. Paying or crediting the invoice in full closes it by itself',
        tags: ['billing'],
        headers: purposeHeaders,
        params,
        response: { 200: collectionState },
      },
    },
    async (request) =>
      collectionJson(await closeCollection(kernel, declaredContext(request), request.params.id)),
  );
}

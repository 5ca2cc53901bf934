import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import type { Kernel } from '../../kernel/kernel.js';
import { describeUnexpected } from '../../platform/errors.js';
import {
  createContract,
  createContractInputSchema,
  getContract,
  getCustomerStatus,
  listContracts,
  terminateContract,
  terminateContractInputSchema,
} from './contract.service.js';
import {
  contractSchema,
  customerStatusSchema,
  orderSchema,
  pageSchema,
  presentContract,
  presentCustomerStatus,
  presentOrder,
  presentProduct,
  presentQuote,
  productSchema,
  quoteSchema,
} from './contracts.presenter.js';
import {
  changeOrderStatus,
  createOrder,
  createOrderInputSchema,
  getOrder,
  listOrders,
} from './order.service.js';
import {
  changeProduct,
  createProduct,
  createProductInputSchema,
  getProduct,
  listProducts,
  updateProductInputSchema,
} from './product.service.js';
import {
  changeQuoteStatus,
  createQuote,
  createQuoteInputSchema,
  getQuote,
  listQuotes,
} from './quote.service.js';
import { declaredContext } from '../../http/declared-context.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);
const pageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  cursor: z
    .string()
    .regex(/^\d{1,15}$/, 'a cursor from a previous page')
    .optional(),
});
const subjectPageQuery = pageQuery.extend({ subjectId: id.optional() });

function pageOptions(query: { limit: number; cursor?: string | undefined }): {
  limit: number;
  after?: number;
} {
  return { limit: query.limit, ...(query.cursor === undefined ? {} : { after: Number(query.cursor) }) };
}

function catalogueContextOf(request: FastifyRequest) {
  const staff = staffOf(request);
  return {
    tenantId: staff.tenantId,
    actor: { kind: 'staff' as const, staffId: staff.staffId, role: staff.role },
  };
}

export interface ContractRouteOptions {
  /**
   * Called after a termination committed, before the answer: hands the tenant's pending domain
   * events to their subscribers at once (VX-7 erases the technical dossier). A failure is logged
   * and left to the periodic dispatch; the termination itself stands.
   */
  afterTermination?: (tenantId: number) => Promise<void>;
}

/** Products, quotes, orders and contracts (VX-3), under /api/v1/. */
export function registerContractRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: ContractRouteOptions = {},
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);

  // The catalogue: not personal data.
  typed.get(
    '/api/v1/products',
    {
      onRequest,
      schema: {
        summary: 'The catalogue of products and services',
        tags: ['contracts'],
        querystring: pageQuery.extend({
          active: z
            .enum(['true', 'false', 'all'])
            .default('true')
            .describe('true: products on sale; false: withdrawn ones; all: both'),
        }),
        response: { 200: pageSchema(productSchema) },
      },
    },
    async (request) => {
      const page = await listProducts(kernel, staffOf(request).tenantId, {
        ...pageOptions(request.query),
        ...(request.query.active === 'all' ? {} : { active: request.query.active === 'true' }),
      });
      return { items: page.items.map(presentProduct), nextCursor: page.nextCursor, withheld: 0 };
    },
  );
  typed.post(
    '/api/v1/products',
    {
      onRequest,
      schema: {
        summary: 'Add a product or service to the catalogue (admin, sales)',
        tags: ['contracts'],
        body: createProductInputSchema,
        response: { 201: productSchema },
      },
    },
    async (request, reply) => {
      const product = await createProduct(kernel, catalogueContextOf(request), request.body);
      return reply.status(201).send(presentProduct(product));
    },
  );
  typed.get(
    '/api/v1/products/:productId',
    {
      onRequest,
      schema: {
        summary: 'One product',
        tags: ['contracts'],
        params: z.object({ productId: id }),
        response: { 200: productSchema },
      },
    },
    async (request) =>
      presentProduct(await getProduct(kernel, staffOf(request).tenantId, request.params.productId)),
  );
  typed.patch(
    '/api/v1/products/:productId',
    {
      onRequest,
      schema: {
        summary: 'Change a product’s name, price, VAT rate or availability (admin, sales)',
        tags: ['contracts'],
        params: z.object({ productId: id }),
        body: updateProductInputSchema,
        response: { 200: productSchema },
      },
    },
    async (request) =>
      presentProduct(
        await changeProduct(kernel, catalogueContextOf(request), request.params.productId, request.body),
      ),
  );

  // Quotes.
  typed.get(
    '/api/v1/quotes',
    {
      onRequest,
      schema: {
        summary: 'Quotes, oldest first',
        tags: ['contracts'],
        querystring: subjectPageQuery,
        response: { 200: pageSchema(quoteSchema) },
      },
    },
    async (request) => {
      const context = declaredContext(request);
      const page = await listQuotes(kernel, context, {
        ...pageOptions(request.query),
        ...(request.query.subjectId === undefined ? {} : { subjectId: request.query.subjectId }),
      });
      return { items: page.items.map(presentQuote), nextCursor: page.nextCursor, withheld: page.withheld };
    },
  );
  typed.post(
    '/api/v1/quotes',
    {
      onRequest,
      schema: {
        summary: 'Make a draft quote for a prospect or customer',
        tags: ['contracts'],
        body: createQuoteInputSchema,
        response: { 201: quoteSchema },
      },
    },
    async (request, reply) => {
      const quote = await createQuote(kernel, declaredContext(request), request.body);
      return reply.status(201).send(presentQuote(quote));
    },
  );
  typed.get(
    '/api/v1/quotes/:quoteId',
    {
      onRequest,
      schema: {
        summary: 'One quote',
        tags: ['contracts'],
        params: z.object({ quoteId: id }),
        response: { 200: quoteSchema },
      },
    },
    async (request) => presentQuote(await getQuote(kernel, declaredContext(request), request.params.quoteId)),
  );
  for (const transition of ['send', 'accept', 'reject'] as const) {
    typed.post(
      `/api/v1/quotes/:quoteId/${transition}`,
      {
        onRequest,
        schema: {
          summary: `${transition[0]?.toUpperCase() ?? ''}${transition.slice(1)} a quote`,
          tags: ['contracts'],
          params: z.object({ quoteId: id }),
          response: { 200: quoteSchema },
        },
      },
      async (request) =>
        presentQuote(
          await changeQuoteStatus(kernel, declaredContext(request), request.params.quoteId, transition),
        ),
    );
  }

  // Orders.
  typed.get(
    '/api/v1/orders',
    {
      onRequest,
      schema: {
        summary: 'Orders, oldest first',
        tags: ['contracts'],
        querystring: subjectPageQuery,
        response: { 200: pageSchema(orderSchema) },
      },
    },
    async (request) => {
      const context = declaredContext(request);
      const page = await listOrders(kernel, context, {
        ...pageOptions(request.query),
        ...(request.query.subjectId === undefined ? {} : { subjectId: request.query.subjectId }),
      });
      return { items: page.items.map(presentOrder), nextCursor: page.nextCursor, withheld: page.withheld };
    },
  );
  typed.post(
    '/api/v1/orders',
    {
      onRequest,
      schema: {
        summary: 'Place an order, from an accepted quote or direct, with an optional delivery address',
        tags: ['contracts'],
        body: createOrderInputSchema,
        response: { 201: orderSchema },
      },
    },
    async (request, reply) => {
      const order = await createOrder(kernel, declaredContext(request), request.body);
      return reply.status(201).send(presentOrder(order));
    },
  );
  typed.get(
    '/api/v1/orders/:orderId',
    {
      onRequest,
      schema: {
        summary: 'One order',
        tags: ['contracts'],
        params: z.object({ orderId: id }),
        response: { 200: orderSchema },
      },
    },
    async (request) => presentOrder(await getOrder(kernel, declaredContext(request), request.params.orderId)),
  );
  typed.post(
    '/api/v1/orders/:orderId/deliver',
    {
      onRequest,
      schema: {
        summary: 'Record that an order was delivered',
        tags: ['contracts'],
        params: z.object({ orderId: id }),
        body: z.object({ deliveredAt: z.iso.datetime({ offset: true }).optional() }).optional(),
        response: { 200: orderSchema },
      },
    },
    async (request) => {
      const deliveredAt = request.body?.deliveredAt;
      return presentOrder(
        await changeOrderStatus(kernel, declaredContext(request), request.params.orderId, {
          to: 'delivered',
          ...(deliveredAt === undefined ? {} : { deliveredAt: new Date(deliveredAt) }),
        }),
      );
    },
  );
  typed.post(
    '/api/v1/orders/:orderId/cancel',
    {
      onRequest,
      schema: {
        summary: 'Cancel an order that was not delivered',
        tags: ['contracts'],
        params: z.object({ orderId: id }),
        response: { 200: orderSchema },
      },
    },
    async (request) =>
      presentOrder(
        await changeOrderStatus(kernel, declaredContext(request), request.params.orderId, {
          to: 'cancelled',
        }),
      ),
  );

  // Contracts.
  typed.get(
    '/api/v1/contracts',
    {
      onRequest,
      schema: {
        summary: 'Contracts, oldest first',
        tags: ['contracts'],
        querystring: subjectPageQuery,
        response: { 200: pageSchema(contractSchema) },
      },
    },
    async (request) => {
      const context = declaredContext(request);
      const page = await listContracts(kernel, context, {
        ...pageOptions(request.query),
        ...(request.query.subjectId === undefined ? {} : { subjectId: request.query.subjectId }),
      });
      return { items: page.items.map(presentContract), nextCursor: page.nextCursor, withheld: page.withheld };
    },
  );
  typed.post(
    '/api/v1/contracts',
    {
      onRequest,
      schema: {
        summary: 'Start a contract, from an order or direct',
        tags: ['contracts'],
        body: createContractInputSchema,
        response: { 201: contractSchema },
      },
    },
    async (request, reply) => {
      const contract = await createContract(kernel, declaredContext(request), request.body);
      return reply.status(201).send(presentContract(contract));
    },
  );
  typed.get(
    '/api/v1/contracts/:contractId',
    {
      onRequest,
      schema: {
        summary: 'One contract',
        tags: ['contracts'],
        params: z.object({ contractId: id }),
        response: { 200: contractSchema },
      },
    },
    async (request) =>
      presentContract(await getContract(kernel, declaredContext(request), request.params.contractId)),
  );
  typed.post(
    '/api/v1/contracts/:contractId/terminate',
    {
      onRequest,
      schema: {
        summary: 'Record a termination (effective day, channel, reason code); emits contract.terminated',
        tags: ['contracts'],
        params: z.object({ contractId: id }),
        body: terminateContractInputSchema,
        response: { 200: contractSchema },
      },
    },
    async (request) => {
      const context = declaredContext(request);
      const contract = await terminateContract(kernel, context, request.params.contractId, request.body);
      if (options.afterTermination) {
        await options.afterTermination(context.tenantId).catch((error: unknown) => {
          request.log.error({ err: describeUnexpected(error) }, 'domain event dispatch failed');
        });
      }
      return presentContract(contract);
    },
  );
  typed.get(
    '/api/v1/customer-status/:subjectId',
    {
      onRequest,
      schema: {
        summary:
          'A person’s customer status, derived from their contracts: prospect, customer or former customer',
        tags: ['contracts'],
        params: z.object({ subjectId: id }),
        response: { 200: customerStatusSchema },
      },
    },
    async (request) =>
      presentCustomerStatus(
        await getCustomerStatus(kernel, declaredContext(request), request.params.subjectId),
      ),
  );
}

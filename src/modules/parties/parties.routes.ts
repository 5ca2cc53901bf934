import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { requireStaff, staffOf } from '../../http/auth.js';
import { PURPOSE_HEADER, purposeOf } from '../../http/purpose.js';
import { logUnreadable } from '../../http/unreadable.js';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { STAFF_PURPOSE } from '../staff/index.js';
import {
  recordParentalConsent,
  reportMinorWithoutConsent,
  parentalConsentInputSchema,
  reportMinorInputSchema,
} from './minors.service.js';
import {
  assertMayChangeOrganisations,
  createOrganisation,
  createOrganisationInputSchema,
  getOrganisation,
  listOrganisations,
  updateOrganisation,
  updateOrganisationInputSchema,
} from './organisation.service.js';
import { erasePerson, type ErasureFollowUpOf } from './erase.service.js';
import {
  assertMayRegisterPeople,
  createPerson,
  personUpdateSchema,
  rectifyAndReadPerson,
  createPersonInputSchema,
  getPerson,
  listPeople,
  searchPeopleByContact,
  type SubscribersAt,
  type UseCaseContext,
} from './people.service.js';

const purposeHeaders = z
  .object({ [PURPOSE_HEADER]: z.string().describe("purpose key of the tenant's policy") })
  .passthrough();

/** The presenter: the fields of a person that may leave, each only when the purpose covers it. */
const personSchema = z.object({
  subjectId: z.number().int(),
  subjectType: z.string(),
  source: z.string(),
  organisationId: z.number().int().nullable(),
  familyName: z.string().nullable().optional(),
  givenName: z.string().nullable().optional(),
  gender: z.enum(['female', 'male', 'x']).nullable().optional(),
  preferredLanguage: z.enum(['nl', 'fr', 'en', 'de']).nullable().optional(),
  email: z.string().nullable().optional(),
  phone: z.string().nullable().optional(),
  birthDate: z.string().nullable().optional(),
  address: z
    .object({ street: z.string(), postalCode: z.string(), city: z.string(), country: z.string() })
    .nullable()
    .optional(),
  jobTitle: z.string().nullable().optional(),
  jobFunction: z.string().nullable().optional(),
  decisionAuthority: z.boolean().nullable().optional(),
  notes: z.string().nullable().optional(),
});

const postalAddressSchema = z.object({
  street: z.string(),
  postalCode: z.string(),
  city: z.string(),
  country: z.string(),
});

const organisationSchema = z.object({
  organisationId: z.number().int(),
  name: z.string(),
  enterpriseNumber: z.string().nullable(),
  country: z.string(),
  address: postalAddressSchema.nullable(),
  billingAddress: postalAddressSchema.nullable(),
  vatRegistered: z.boolean(),
  buyerReference: z.string().nullable(),
  vatNumber: z.string().nullable(),
  peppolEndpoint: z.object({ scheme: z.string(), id: z.string() }).nullable(),
});

const erasureOutcomeSchema = z.object({
  erased: z.array(z.object({ table: z.string(), rows: z.number().int(), categories: z.array(z.string()) })),
  kept: z.array(
    z.object({
      table: z.string(),
      rows: z.number().int(),
      categories: z.array(z.string()),
      legalHold: z.string(),
      legalReference: z.string(),
      retention: z.string(),
    }),
  ),
  /** Staff only: rows kept while an authority request's silence runs, until its last day (decision 0470). */
  keptSilently: z.array(
    z.object({ table: z.string(), rows: z.number().int(), kind: z.string(), until: z.iso.date() }),
  ),
  keyDestroyed: z.boolean(),
});

const idParams = z.object({ id: z.coerce.number().int().positive() });
const pageQuery = {
  limit: z.coerce.number().int().min(1).max(200).default(50),
  // A subject id: PostgreSQL integers end at 2^31 - 1, so at most 10 digits (range checked below).
  cursor: z
    .string()
    .regex(/^\d{1,10}$/, 'a cursor from a previous page')
    .optional(),
};

function context(request: FastifyRequest): UseCaseContext {
  const staff = staffOf(request);
  return {
    tenantId: staff.tenantId,
    actor: { kind: 'staff', staffId: staff.staffId, role: staff.role },
    purpose: purposeOf(request),
    requestId: request.id,
  };
}

/** What the composition root lends these routes from other modules. */
export interface PartiesRouteOptions {
  /** The consent module's subscribers at an address, for the duplicate check (decision 1020). */
  subscribersAt?: SubscribersAt;
  /** The requests module's part of an erasure: a waiting erasure request completed (decision 1251). */
  erasureFollowUp?: ErasureFollowUpOf;
}

export function registerPartiesRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: PartiesRouteOptions = {},
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  // The authority request dialog names its persons through these reads: names only (decision 0816).
  const onRead = requireStaff(kernel, { authorityNames: true });
  typed.post(
    '/api/v1/people',
    {
      onRequest,
      schema: {
        summary: 'Register a person (customer, prospect, contact person, applicant …) under a purpose',
        description:
          'Every role that writes names under the declared purpose, except the privacy officer (403 role_not_allowed, decision 1111). `GET /api/v1/me/purposes` lists the purposes as capability `peopleCreate`.',
        tags: ['people'],
        headers: purposeHeaders,
        body: createPersonInputSchema,
        response: { 201: personSchema },
      },
    },
    async (request, reply) => {
      assertMayRegisterPeople(staffOf(request).role);
      // A staff member is a person with an account: the staff routes make both (decision 1111).
      if (purposeOf(request) === STAFF_PURPOSE)
        throw new AppError('purpose_not_allowed', 'people are not registered under the staff purpose', {
          publicMessage: `${STAFF_PURPOSE}: a staff member is registered with their account (POST /api/v1/staff)`,
          details: { issues: [{ path: 'headers/x-kluis-purpose', message: 'staff accounts only' }] },
        });
      return reply.status(201).send(
        await createPerson(kernel, context(request), request.body, {
          refuseDuplicateEmail: true,
          ...(options.subscribersAt ? { subscribersAt: options.subscribersAt } : {}),
        }),
      );
    },
  );
  typed.get(
    '/api/v1/people',
    {
      onRequest: onRead,
      schema: {
        summary:
          'List or search people (by name prefix, exact e-mail or exact phone); only the fields the purpose covers',
        tags: ['people'],
        headers: purposeHeaders,
        querystring: z.object({
          name: z.string().min(1).max(100).optional(),
          email: z.string().max(320).optional(),
          phone: z.string().max(40).optional(),
          organisationId: z.coerce
            .number()
            .int()
            .positive()
            .optional()
            .describe('the contact persons of an organisation'),
          ...pageQuery,
        }),
        response: {
          200: z.object({
            items: z.array(personSchema),
            nextCursor: z.string().nullable(),
            unreadable: z
              .number()
              .int()
              .describe(
                'people of this page the purpose may read whose encrypted fields cannot be opened with this installation’s key store (field_unreadable: key store and data of different backups?); left out of items and logged for the operator',
              ),
          }),
        },
      },
    },
    async (request) => {
      const { email, phone, name, organisationId, limit, cursor } = request.query;
      if (email !== undefined || phone !== undefined) {
        const found = await searchPeopleByContact(
          kernel,
          context(request),
          email !== undefined ? { email } : { phone: phone ?? '' },
        );
        logUnreadable(request, staffOf(request).tenantId, found.unreadable);
        return { items: found.people, nextCursor: null, unreadable: found.unreadable.length };
      }
      const page = await listPeople(kernel, context(request), {
        limit,
        ...(name ? { name } : {}),
        ...(organisationId !== undefined ? { organisationId } : {}),
        ...(cursor ? { cursor } : {}),
      });
      logUnreadable(request, staffOf(request).tenantId, page.unreadable);
      return { items: page.items, nextCursor: page.nextCursor, unreadable: page.unreadable.length };
    },
  );
  typed.get(
    '/api/v1/people/:id',
    {
      onRequest: onRead,
      schema: {
        summary: 'One person, the fields the purpose covers',
        tags: ['people'],
        headers: purposeHeaders,
        params: idParams,
        response: { 200: personSchema },
      },
    },
    async (request) => getPerson(kernel, context(request), request.params.id),
  );
  typed.patch(
    '/api/v1/people/:id',
    {
      onRequest,
      schema: {
        summary:
          'Correct a person (GDPR Art. 16) or write the notes kept about them: the fields given are overwritten; the audit names categories, not values. ' +
          'Notes (kluis.communication.correspondence) only under a purpose that covers them, scanned like all free text (VK-16, 422 sensitive_data_refused); null clears them. ' +
          'Answers the person as corrected, under the purpose, read in the same transaction as the correction',
        tags: ['people'],
        headers: purposeHeaders,
        params: idParams,
        body: personUpdateSchema,
        response: { 200: personSchema },
      },
    },
    // The correction and the answer's read in one transaction (decision 0725).
    async (request) => rectifyAndReadPerson(kernel, context(request), request.params.id, request.body),
  );
  typed.delete(
    '/api/v1/people/:id',
    {
      onRequest,
      schema: {
        summary:
          'Erase a person everywhere (GDPR Art. 17), under a purpose the policy declares for erasing a whole person; legal holds keep what they keep',
        tags: ['people'],
        headers: purposeHeaders,
        params: idParams,
        response: { 200: erasureOutcomeSchema },
      },
    },
    async (request) => {
      const outcome = await erasePerson(kernel, context(request), request.params.id, options.erasureFollowUp);
      return {
        erased: outcome.erased,
        kept: outcome.kept,
        keptSilently: outcome.keptSilently,
        keyDestroyed: outcome.keyDestroyed,
      };
    },
  );
  typed.post(
    '/api/v1/people/:id/parental-consent',
    {
      onRequest,
      schema: {
        summary: 'VK-15: record that a parent or guardian consented for a minor',
        tags: ['people'],
        headers: purposeHeaders,
        params: idParams,
        body: parentalConsentInputSchema,
        response: { 204: z.null() },
      },
    },
    async (request, reply) => {
      await recordParentalConsent(kernel, context(request), request.params.id, request.body);
      return reply.status(204).send(null);
    },
  );
  typed.post(
    '/api/v1/people/:id/report-minor',
    {
      onRequest,
      schema: {
        summary:
          'VK-15: report a minor without parental consent; erases the person at once. Only a person recorded as a ' +
          "minor, or whose birth date given here makes them one by the policy's age, under a purpose the policy " +
          'declares for it (wholePerson: minor_erasure)',
        tags: ['people'],
        headers: purposeHeaders,
        params: idParams,
        body: reportMinorInputSchema.nullish(),
        response: { 200: erasureOutcomeSchema },
      },
    },
    async (request) => {
      const outcome = await reportMinorWithoutConsent(
        kernel,
        context(request),
        request.params.id,
        request.body ?? {},
        options.erasureFollowUp,
      );
      return {
        erased: outcome.erased,
        kept: outcome.kept,
        keptSilently: outcome.keptSilently,
        keyDestroyed: outcome.keyDestroyed,
      };
    },
  );
  typed.post(
    '/api/v1/organisations',
    {
      onRequest,
      schema: {
        summary: 'Register a business customer (enterprise number checked)',
        tags: ['organisations'],
        body: createOrganisationInputSchema,
        response: { 201: organisationSchema },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      assertMayChangeOrganisations(staff.role);
      return reply.status(201).send(await createOrganisation(kernel, staff.tenantId, request.body));
    },
  );
  typed.get(
    '/api/v1/organisations',
    {
      onRequest,
      schema: {
        summary: 'List or search organisations',
        tags: ['organisations'],
        querystring: z.object({ name: z.string().min(1).max(100).optional(), ...pageQuery }),
        response: {
          200: z.object({ items: z.array(organisationSchema), nextCursor: z.string().nullable() }),
        },
      },
    },
    async (request) =>
      listOrganisations(kernel, staffOf(request).tenantId, {
        limit: request.query.limit,
        ...(request.query.name ? { name: request.query.name } : {}),
        ...(request.query.cursor ? { cursor: request.query.cursor } : {}),
      }),
  );
  typed.get(
    '/api/v1/organisations/:id',
    {
      onRequest,
      schema: {
        summary:
          'One organisation (its contact persons: GET /api/v1/people?organisationId=, under a purpose)',
        tags: ['organisations'],
        params: idParams,
        response: { 200: organisationSchema },
      },
    },
    async (request) => getOrganisation(kernel, staffOf(request).tenantId, request.params.id),
  );
  typed.patch(
    '/api/v1/organisations/:id',
    {
      onRequest,
      schema: {
        summary: "Change a business customer's name, addresses, VAT registration or invoice reference",
        tags: ['organisations'],
        params: idParams,
        body: updateOrganisationInputSchema,
        response: { 200: organisationSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      assertMayChangeOrganisations(staff.role);
      return updateOrganisation(kernel, staff.tenantId, request.params.id, request.body);
    },
  );
}

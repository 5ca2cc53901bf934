import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import type { AccessContext } from '../../kernel/gate/access.js';
import type { Kernel } from '../../kernel/kernel.js';
import { messageDomainOf } from '../../kernel/letters/index.js';
import {
  approveAuthorityRequest,
  authorityRequestInputSchema,
  discloseAuthorityRequest,
  LEGAL_DISCLOSURE_PURPOSE,
  listAuthorityRequests,
  registerAuthorityRequest,
  type AuthorityRequest,
} from './authority.service.js';
import { exportForRecipient, exportInputSchema } from './export.service.js';
import {
  assessIncident,
  assessmentSchema,
  authorityDecisionSchema,
  decideAuthorityNotification,
  decidePersonsNotification,
  draftAuthorityNotification,
  getIncident,
  incidentPurpose,
  listIncidents,
  personsDecisionSchema,
  publicReportSchema,
  reportIncidentByStaff,
  staffReportSchema,
  submitPublicIncidentReport,
  type Incident,
  type IncidentFormLimits,
} from './incident.service.js';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mailer.js';
import { declaredContext } from '../../http/declared-context.js';

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const authorityRequestSchema = z.object({
  authorityRequestId: z.number(),
  recipient: z.string(),
  authority: z.string(),
  country: z.string(),
  legalBasis: z.string(),
  orderReference: z.string(),
  subjectIds: z.array(z.number()),
  categories: z.array(z.string()),
  period: z.object({ from: z.string(), to: z.string() }).nullable(),
  decision: z.enum(['disclose', 'refuse']),
  decisionNote: z.string().nullable(),
  confidentialUntil: z.string().nullable(),
  state: z.enum(['awaiting_approval', 'approved', 'refused', 'disclosed']),
  registeredBy: z.number(),
  registeredAt: z.string(),
  approvedBy: z.number().nullable(),
  approvedAt: z.string().nullable(),
  disclosedAt: z.string().nullable(),
  disclosureId: z.number().nullable(),
});

function presentAuthorityRequest(request: AuthorityRequest): z.infer<typeof authorityRequestSchema> {
  return {
    ...request,
    registeredAt: request.registeredAt.toISOString(),
    approvedAt: request.approvedAt?.toISOString() ?? null,
    disclosedAt: request.disclosedAt?.toISOString() ?? null,
  };
}

/** Authority requests have one purpose by nature (decision 0061): the policy's legal disclosure. */
function legalDisclosureContext(request: FastifyRequest): AccessContext {
  const staff = staffOf(request);
  return {
    tenantId: staff.tenantId,
    actor: actorOf(staff),
    purpose: LEGAL_DISCLOSURE_PURPOSE,
    requestId: request.id,
  };
}

const recipientKey = z.string().regex(/^[a-z][a-z0-9_]{0,60}$/, 'a recipient key of the policy');

/** Recipients (issue 18): the registry and files for processors and third parties. */
export function registerRecipientsRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const onRequest = requireStaff(kernel);
  // Authority requests act under legal disclosure only: another declared purpose is refused (0061).
  const legalDisclosure = requireStaff(kernel, { purpose: LEGAL_DISCLOSURE_PURPOSE });

  typed.get(
    '/api/v1/recipients',
    {
      onRequest,
      schema: {
        summary: "The recipients of the tenant's policy: kind, country, agreement, categories and purposes",
        tags: ['recipients'],
        response: {
          200: z.object({
            items: z.array(
              z.object({
                key: z.string(),
                label: z.string().describe("the name in the statement's first language"),
                labels: z
                  .object({ nl: z.string(), fr: z.string(), en: z.string() })
                  .describe('the name in each language, for a screen in that language'),
                kind: z.string(),
                country: z.string(),
                agreement: z.object({ reference: z.string(), date: z.string() }).nullable(),
                transferSafeguard: z.string().nullable(),
                categories: z.array(z.string()),
                purposes: z.array(z.string()),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const { policy } = await kernel.policies.current(staff.tenantId);
      const lang = policy.statement.languages[0] ?? 'nl';
      return {
        items: Object.entries(policy.recipients).map(([key, recipient]) => ({
          key,
          label: recipient.label[lang],
          labels: { nl: recipient.label.nl, fr: recipient.label.fr, en: recipient.label.en },
          kind: recipient.kind,
          country: recipient.country,
          agreement: recipient.agreement ?? null,
          transferSafeguard: recipient.transferSafeguard ?? null,
          categories: recipient.categories,
          purposes: recipient.purposes,
        })),
      };
    },
  );

  typed.post(
    '/api/v1/recipients/:recipient/exports',
    {
      // The one route that may act under a disclosure-only purpose (decision 0872).
      onRequest: requireStaff(kernel, { disclosure: true }),
      schema: {
        summary:
          'A CSV file for a recipient (processor, third party) with exactly the columns it may receive; logged as a disclosure (VK-10, VK-11, VX-6)',
        description:
          'Acts under the purpose in x-kluis-purpose, which must be one the recipient receives data for. A category the recipient may not receive is refused (403 category_not_allowed, naming it); a recipient outside the region the policy allows is refused (403 transfer_not_allowed). Persons who objected, are restricted or are not covered by the purpose are left out (x-kluis-left-out).',
        tags: ['recipients'],
        params: z.strictObject({ recipient: recipientKey }),
        body: exportInputSchema.meta({
          example: { subjectIds: [1042, 1043], categories: ['user.name', 'user.contact.email'] },
        }),
        response: { 200: z.string() },
      },
    },
    async (request, reply) => {
      const result = await exportForRecipient(
        kernel,
        declaredContext(request),
        request.params.recipient,
        request.body,
      );
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', `attachment; filename="${request.params.recipient}.csv"`)
        .header('x-kluis-disclosure', result.reference)
        .header('x-kluis-disclosed', String(result.disclosed))
        .header('x-kluis-left-out', String(result.leftOut))
        .send(result.csv);
    },
  );

  typed.post(
    '/api/v1/authority-requests',
    {
      onRequest: legalDisclosure,
      schema: {
        summary:
          'Register a request of a judicial authority or the police and the decision on it (VK-10); nothing is disclosed before a second staff member approves',
        tags: ['recipients'],
        body: authorityRequestInputSchema.meta({
          example: {
            recipient: 'judicial_authorities',
            authority: 'Parket West-Vlaanderen, afdeling Kortrijk',
            country: 'BE',
            legalBasis: 'art. 46bis en 88bis Wetboek van Strafvordering',
            orderReference: 'KO.12.L1.0421/26',
            subjectIds: [1042],
            categories: ['user.name', 'kluis.telephony.call_record'],
            period: { from: '2026-10-01', to: '2026-10-31' },
            decision: 'disclose',
            confidentialUntil: '2026-12-31',
          },
        }),
        response: { 201: authorityRequestSchema },
      },
    },
    async (request, reply) => {
      const registered = await registerAuthorityRequest(
        kernel,
        legalDisclosureContext(request),
        request.body,
      );
      return reply.status(201).send(presentAuthorityRequest(registered));
    },
  );

  typed.get(
    '/api/v1/authority-requests',
    {
      onRequest: legalDisclosure,
      schema: {
        summary: 'Requests of authorities, newest first',
        tags: ['recipients'],
        response: { 200: z.object({ items: z.array(authorityRequestSchema) }) },
      },
    },
    async (request) => ({
      items: (await listAuthorityRequests(kernel, legalDisclosureContext(request))).map(
        presentAuthorityRequest,
      ),
    }),
  );

  typed.post(
    '/api/v1/authority-requests/:authorityRequestId/approve',
    {
      onRequest: legalDisclosure,
      schema: {
        summary: 'Approve a request as the second staff member (four eyes: not the one who registered it)',
        tags: ['recipients'],
        params: z.strictObject({ authorityRequestId: id }),
        response: { 200: authorityRequestSchema },
      },
    },
    async (request) =>
      presentAuthorityRequest(
        await approveAuthorityRequest(
          kernel,
          legalDisclosureContext(request),
          request.params.authorityRequestId,
        ),
      ),
  );

  typed.post(
    '/api/v1/authority-requests/:authorityRequestId/disclose',
    {
      onRequest: legalDisclosure,
      schema: {
        summary:
          'Disclose an approved request through the door: the data in scope (call records of the period still kept), logged once',
        tags: ['recipients'],
        params: z.strictObject({ authorityRequestId: id }),
        response: {
          200: z.object({
            request: authorityRequestSchema,
            persons: z.array(z.record(z.string(), z.unknown())),
            callRecords: z.array(
              z.object({
                subjectId: z.number(),
                startedAt: z.string(),
                caller: z.string(),
                destination: z.string(),
                durationSeconds: z.number(),
              }),
            ),
          }),
        },
      },
    },
    async (request) => {
      const result = await discloseAuthorityRequest(
        kernel,
        legalDisclosureContext(request),
        request.params.authorityRequestId,
      );
      return { ...result, request: presentAuthorityRequest(result.request) };
    },
  );
}

export interface IncidentRouteOptions {
  mailer: Mailer;
  /** The public URL; its host names the breach letters' Message-IDs (decision 0863). */
  publicUrl: string;
  logger: Logger;
  dataMap: readonly TableDataMap[];
  limits?: IncidentFormLimits;
}

/** The path of the public form's endpoint, for the privacy portal's page (`slug` of the tenant). */
export const incidentReportPath = (slug: string): string =>
  `/t/${encodeURIComponent(slug)}/privacy/incident-reports`;

const incidentSchema = z.object({
  incidentId: z.number(),
  kind: z.string(),
  source: z.string(),
  description: z.string(),
  noticedAt: z.string(),
  reportedAt: z.string(),
  isBreach: z.boolean(),
  awareAt: z.string().nullable(),
  deadline: z.string().nullable(),
  affectedCategories: z.array(z.string()),
  affectedTables: z.array(z.string()),
  affectedCount: z.number(),
  risk: z.enum(['none', 'low', 'high']).nullable(),
  riskAssessment: z.string().nullable(),
  measures: z.string().nullable(),
  whatHappened: z
    .string()
    .nullable()
    .meta({ description: "the latest assessment's text of what happened: the letters and the draft say it" }),
  authorityDecision: z.enum(['pending', 'notified', 'not_notified']),
  authorityReason: z.string().nullable(),
  personsDecision: z.enum(['pending', 'inform', 'not_inform']),
  personsReason: z.string().nullable(),
  assessmentNo: z
    .number()
    .meta({ description: 'the latest assessment (0: none); a re-assessment sends it as revises' }),
  assessments: z.array(
    z.object({
      assessmentNo: z.number(),
      isBreach: z.boolean(),
      risk: z.enum(['none', 'low', 'high']),
      riskAssessment: z.string(),
      measures: z.string(),
      affectedCategories: z.array(z.string()),
      affectedTables: z.array(z.string()),
      affectedCount: z.number(),
      changeReason: z.string().nullable(),
      whatHappened: z.string().nullable(),
      assessedAt: z.string(),
      assessedByStaffId: z.number().nullable(),
    }),
  ),
  decisions: z
    .array(
      z.object({
        decisionNo: z.number(),
        addressee: z.enum(['authority', 'persons']),
        decision: z.enum(['notified', 'not_notified', 'supplemented', 'inform', 'not_inform']),
        reason: z.string().nullable(),
        assessmentNo: z.number().nullable(),
        lettersQueued: z.number(),
        decidedAt: z.string(),
        decidedByStaffId: z.number().nullable(),
      }),
    )
    .meta({ description: 'every decision on the breach as it was taken, oldest first (decision 1070)' }),
});

function presentIncident(incident: Incident): z.infer<typeof incidentSchema> {
  return {
    ...incident,
    noticedAt: incident.noticedAt.toISOString(),
    reportedAt: incident.reportedAt.toISOString(),
    awareAt: incident.awareAt?.toISOString() ?? null,
    deadline: incident.deadline?.toISOString() ?? null,
    assessments: incident.assessments.map((assessment) => ({
      ...assessment,
      assessedAt: assessment.assessedAt.toISOString(),
    })),
    decisions: incident.decisions.map((decision) => ({
      ...decision,
      decidedAt: decision.decidedAt.toISOString(),
    })),
  };
}

/** The register's routes act under the policy's incident purpose (one purpose by nature, 0061). */
async function incidentContext(kernel: Kernel, request: FastifyRequest): Promise<AccessContext> {
  const staff = staffOf(request);
  const { policy } = await kernel.policies.current(staff.tenantId);
  const actor = actorOf(staff);
  return { tenantId: staff.tenantId, actor, purpose: incidentPurpose(policy, actor), requestId: request.id };
}

/** VK-9: the public report form's endpoint, staff reports, the incident register on the 72-hour clock. */
export function registerIncidentRoutes(
  app: FastifyInstance,
  kernel: Kernel,
  options: IncidentRouteOptions,
): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  // The register is kept under the policy's incident purpose: another declared purpose is refused (0061).
  const onRequest = requireStaff(kernel, { purpose: (policy) => policy.incidents?.purpose });
  const deps = { kernel, ...options, messageDomain: messageDomainOf(options.publicUrl) };
  const incidentParams = z.strictObject({ incidentId: id });

  typed.post(
    '/t/:slug/privacy/incident-reports',
    {
      schema: {
        summary:
          'Report suspected misuse or insecurity (VK-9). Asks nothing about the reporter; the answer is the same for everyone. Limited per client address and tenant.',
        tags: ['privacy portal'],
        params: z.strictObject({ slug: z.string().min(1).max(80) }),
        body: publicReportSchema.meta({
          example: {
            kind: 'misuse',
            description: 'Ik kreeg een e-mail in jullie naam die om mijn wachtwoord vroeg.',
            noticedOn: '2026-11-23',
          },
        }),
        response: { 202: z.object({ received: z.literal(true), next: z.string() }) },
      },
    },
    async (request, reply) => {
      await submitPublicIncidentReport(deps, request.params.slug, request.body, { address: request.ip });
      return reply.status(202).send({
        received: true,
        next: 'thank you: your report is in our incident register; to get an answer, use the contact details in our privacy statement',
      });
    },
  );

  typed.post(
    '/api/v1/incidents',
    {
      onRequest,
      schema: {
        summary: 'Report an incident as a member of staff (any role): into the register',
        tags: ['incidents'],
        body: staffReportSchema.meta({
          example: {
            kind: 'breach',
            description: 'Een laptop met een export van de klantenlijst is gestolen uit een bedrijfswagen.',
            noticedAt: '2026-11-24T08:15:00+01:00',
          },
        }),
        response: { 201: z.object({ incidentId: z.number() }) },
      },
    },
    async (request, reply) => {
      const staff = staffOf(request);
      const { policy } = await kernel.policies.current(staff.tenantId);
      const created = await reportIncidentByStaff(
        kernel,
        {
          tenantId: staff.tenantId,
          actor: actorOf(staff),
          // Any member of staff reports into the register, under its purpose (no role check).
          purpose: policy.incidents?.purpose ?? 'incident_report',
          requestId: request.id,
        },
        request.body,
      );
      return reply.status(201).send(created);
    },
  );

  typed.get(
    '/api/v1/incidents',
    {
      onRequest,
      schema: {
        summary: 'The incident register, newest first',
        tags: ['incidents'],
        response: { 200: z.object({ items: z.array(incidentSchema) }) },
      },
    },
    async (request) => ({
      items: (await listIncidents(kernel, await incidentContext(kernel, request))).map(presentIncident),
    }),
  );

  typed.get(
    '/api/v1/incidents/:incidentId',
    {
      onRequest,
      schema: {
        summary: 'One incident of the register',
        tags: ['incidents'],
        params: incidentParams,
        response: { 200: incidentSchema },
      },
    },
    async (request) =>
      presentIncident(
        await getIncident(kernel, await incidentContext(kernel, request), request.params.incidentId),
      ),
  );

  typed.post(
    '/api/v1/incidents/:incidentId/assessment',
    {
      onRequest,
      schema: {
        summary:
          "Assess an incident: breach or not, awareness (starts the 72-hour clock once), categories and tables affected (persons found through the data map), risk, measures, and for a breach what happened in the officer's words (whatHappened: the Art. 34 letters and the Art. 33 draft say it, never the report's description). Every assessment is kept; a re-assessment names the one it revises (409 when another came first) and a lowered one says why (changeReason)",
        tags: ['incidents'],
        params: incidentParams,
        body: assessmentSchema.meta({
          example: {
            isBreach: true,
            awareAt: '2026-11-24T09:00:00+01:00',
            affectedCategories: ['user.name', 'user.contact.email'],
            affectedTables: ['people'],
            risk: 'high',
            riskAssessment: 'Phishing in onze naam is mogelijk; de schijf was niet versleuteld.',
            measures: 'Aangifte bij de politie; wachtwoorden van de portaalaccounts teruggezet.',
            whatHappened:
              'Op 23 november werd een laptop van een medewerker gestolen. Er stonden namen en e-mailadressen van klanten op.',
          },
        }),
        response: { 200: incidentSchema },
      },
    },
    async (request) =>
      presentIncident(
        await assessIncident(
          deps,
          await incidentContext(kernel, request),
          request.params.incidentId,
          request.body,
        ),
      ),
  );

  typed.get(
    '/api/v1/incidents/:incidentId/notification-draft',
    {
      onRequest,
      schema: {
        summary:
          "The notification for the Belgian Data Protection Authority with the content of GDPR Art. 33(3), in nl or fr, saying the assessment's whatHappened (409 while it has none)",
        tags: ['incidents'],
        params: incidentParams,
        querystring: z.strictObject({ lang: z.enum(['nl', 'fr']).optional() }),
        response: {
          200: z.object({
            language: z.enum(['nl', 'fr']),
            deadline: z.string(),
            hoursLeft: z.number(),
            subject: z.string(),
            text: z.string(),
          }),
        },
      },
    },
    async (request) => {
      const draft = await draftAuthorityNotification(
        kernel,
        await incidentContext(kernel, request),
        request.params.incidentId,
        request.query.lang,
      );
      return { ...draft, deadline: draft.deadline.toISOString() };
    },
  );

  typed.post(
    '/api/v1/incidents/:incidentId/authority-notification',
    {
      onRequest,
      schema: {
        summary:
          'Record that the authority was notified, or why it was not (GDPR Art. 33(5)); stops the clock. Later: not_notified may become notified (with a reason), and a notification is supplemented (supplemented) after a revised assessment (Art. 33(4)); every decision is kept',
        tags: ['incidents'],
        params: incidentParams,
        body: authorityDecisionSchema.meta({
          example: {
            decision: 'not_notified',
            reason: 'De gegevens waren versleuteld en de sleutel is niet gelekt.',
          },
        }),
        response: { 200: incidentSchema },
      },
    },
    async (request) =>
      presentIncident(
        await decideAuthorityNotification(
          kernel,
          await incidentContext(kernel, request),
          request.params.incidentId,
          request.body,
        ),
      ),
  );

  typed.post(
    '/api/v1/incidents/:incidentId/persons-notification',
    {
      onRequest,
      schema: {
        summary:
          "Inform the persons affected (GDPR Art. 34: a letter to each in their language, once, saying the assessment's whatHappened), or record why not; 409 while the latest assessment has no whatHappened. After not_inform, inform with a reason (Art. 34(4)); after inform, inform again writes only to persons a revised assessment added; every decision is kept",
        tags: ['incidents'],
        params: incidentParams,
        body: personsDecisionSchema.meta({ example: { decision: 'inform' } }),
        response: {
          200: incidentSchema.extend({
            lettersSent: z.number().describe('letters of this decision SMTP accepted before the answer'),
            lettersWaiting: z
              .number()
              .describe(
                'letters of this decision still in the outbox (SMTP refused for now): retried by the letter sender',
              ),
            lettersWithoutAddress: z.number().describe('persons affected without an e-mail address on file'),
            personsNotReached: z
              .number()
              .describe(
                'persons affected whom the incident purpose does not reach (none under a valid policy)',
              ),
          }),
        },
      },
    },
    async (request) => {
      const result = await decidePersonsNotification(
        deps,
        await incidentContext(kernel, request),
        request.params.incidentId,
        request.body,
      );
      return {
        ...presentIncident(result),
        lettersSent: result.lettersSent,
        lettersWaiting: result.lettersWaiting,
        lettersWithoutAddress: result.lettersWithoutAddress,
        personsNotReached: result.personsNotReached,
      };
    },
  );
}

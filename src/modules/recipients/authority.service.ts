import { z } from 'zod';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { checkDisclosure, disclose } from '../../kernel/disclosure/index.js';
import { authorize, type AccessContext } from '../../kernel/gate/access.js';
import { AccessDenied, auditActor, type Actor } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { findPurpose } from '../../kernel/policy/policy.query.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { readPeopleUnderGrant, type Person } from '../parties/index.js';
import { findCallRecordsIn, TELEPHONY_CATEGORIES } from '../telephony/index.js';
import { recipientsDataMap } from './datamap.js';

/** The purpose authority requests are handled under (both seed policies: privacy officers only). */
export const LEGAL_DISCLOSURE_PURPOSE = 'legal_disclosure';

const day = z.iso.date({ error: 'expected a date as YYYY-MM-DD' });

export const authorityRequestInputSchema = z
  .strictObject({
    /** The authority recipient of the policy (e.g. judicial_authorities). */
    recipient: z.string().regex(/^[a-z][a-z0-9_]{0,60}$/),
    authority: z.string().trim().min(2).max(200),
    /** Where the requesting authority sits (ISO 3166-1): a foreign authority is a transfer (VK-12). */
    country: z.string().regex(/^[A-Z]{2}$/, 'an ISO 3166 country code like "BE"'),
    legalBasis: z.string().trim().min(2).max(500),
    orderReference: z.string().trim().min(1).max(200),
    subjectIds: z.array(z.number().int().positive().max(Number.MAX_SAFE_INTEGER)).min(1).max(1000),
    categories: z.array(z.string().max(120)).min(1).max(30),
    period: z.strictObject({ from: day, to: day }).optional(),
    decision: z.enum(['disclose', 'refuse']),
    decisionNote: z.string().trim().min(1).max(2000).optional(),
    /** The authority forbids telling the persons until this day (inclusive). */
    confidentialUntil: day.optional(),
  })
  .refine((input) => !input.period || input.period.from <= input.period.to, {
    message: 'period.from lies after period.to',
    path: ['period'],
  });
export type AuthorityRequestInput = z.infer<typeof authorityRequestInputSchema>;

export type AuthorityRequestState = 'awaiting_approval' | 'approved' | 'refused' | 'disclosed';

export interface AuthorityRequest {
  authorityRequestId: number;
  recipient: string;
  authority: string;
  country: string;
  legalBasis: string;
  orderReference: string;
  subjectIds: number[];
  categories: string[];
  period: { from: string; to: string } | null;
  decision: 'disclose' | 'refuse';
  decisionNote: string | null;
  confidentialUntil: string | null;
  state: AuthorityRequestState;
  registeredBy: number;
  registeredAt: Date;
  approvedBy: number | null;
  approvedAt: Date | null;
  disclosedAt: Date | null;
  disclosureId: number | null;
}

/** What the authority receives: the persons' data in scope and, when asked, their call records. */
export interface AuthorityDisclosure {
  request: AuthorityRequest;
  persons: Array<Record<string, unknown>>;
  callRecords: Array<{
    subjectId: number;
    startedAt: string;
    caller: string;
    destination: string;
    durationSeconds: number;
  }>;
}

const staffIdOf = (actor: Actor): number => {
  if (actor.kind !== 'staff') throw new AppError('forbidden', 'authority requests are handled by staff');
  return actor.staffId;
};

/**
 * The route acts under the policy's legal-disclosure purpose and only a role it names: call
 * records and the rest leave this way by no other role (VK-10).
 */
function assertMayHandle(policy: Policy, actor: Actor): void {
  const purpose = findPurpose(policy, LEGAL_DISCLOSURE_PURPOSE);
  if (!purpose) {
    throw new AppError('purpose_not_allowed', 'no legal disclosure purpose', {
      publicMessage: `the policy has no purpose ${LEGAL_DISCLOSURE_PURPOSE}: it discloses nothing to authorities`,
    });
  }
  if (actor.kind !== 'staff' || !purpose.roles.includes(actor.role)) {
    throw new AppError('role_not_allowed', 'role may not handle authority requests', {
      publicMessage: `only ${purpose.roles.join(', ')} may handle requests of authorities (purpose ${LEGAL_DISCLOSURE_PURPOSE})`,
    });
  }
}

/**
 * A privacy officer registers an authority's request and their decision. The registry is checked
 * at once (the recipient, its purpose, every category, the authority's country: VK-12), and so
 * are the persons (the gate under the legal-disclosure purpose; another tenant's ids are no one).
 * Nothing is disclosed: a second staff member must approve first.
 */
export async function registerAuthorityRequest(
  kernel: Kernel,
  context: AccessContext,
  input: unknown,
): Promise<AuthorityRequest> {
  const data = parseInput(authorityRequestInputSchema, input);
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMayHandle(policy, context.actor);
  assertFreeTextAllowed(tableMap(recipientsDataMap, 'authority_requests'), [
    { column: 'authority', field: 'authority', value: data.authority },
    { column: 'legal_basis_cited', field: 'legalBasis', value: data.legalBasis },
    { column: 'order_reference', field: 'orderReference', value: data.orderReference },
    { column: 'decision_note', field: 'decisionNote', value: data.decisionNote },
  ]);
  const recipient = Object.hasOwn(policy.recipients, data.recipient)
    ? policy.recipients[data.recipient]
    : undefined;
  if (recipient && recipient.kind !== 'authority') {
    throw new AppError('recipient_not_allowed', 'not an authority', {
      publicMessage: `recipient ${data.recipient} is not an authority of the policy`,
    });
  }
  if (data.categories.includes(TELEPHONY_CATEGORIES.callRecord) && !data.period) {
    throw new AppError('validation_failed', 'call records without period', {
      publicMessage: 'period: call records are disclosed for the period the order names only',
    });
  }
  const subjectIds = [...new Set(data.subjectIds)].sort((a, b) => a - b);
  const now = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const order = {
      recipient: data.recipient,
      purpose: LEGAL_DISCLOSURE_PURPOSE,
      categories: data.categories,
      subjectIds,
      reference: 'authority-request:new',
      destinationCountry: data.country,
    };
    const refusal = checkDisclosure(policy, order);
    if (refusal) {
      throw new AccessDenied(refusal.code, refusal.reason, context.tenantId, {
        actor: auditActor(context.actor),
        role: context.actor.kind === 'staff' ? context.actor.role : null,
        purpose: LEGAL_DISCLOSURE_PURPOSE,
        action: 'authority_request.register',
        subjectIds,
        decision: 'denied',
        reason: refusal.code,
      });
    }
    // The persons must be ones the purpose reaches (and of this tenant); nothing is read yet.
    await authorize(
      kernel,
      atx,
      { ...context, purpose: LEGAL_DISCLOSURE_PURPOSE },
      'read',
      data.categories,
      subjectIds,
    );
    const row = await atx.tx
      .insertInto('authority_requests')
      .values({
        tenant_id: context.tenantId,
        recipient: data.recipient,
        purpose: LEGAL_DISCLOSURE_PURPOSE,
        authority: data.authority,
        authority_country: data.country,
        legal_basis_cited: data.legalBasis,
        order_reference: data.orderReference,
        categories: [...new Set(data.categories)],
        period_from: data.period?.from ?? null,
        period_to: data.period?.to ?? null,
        decision: data.decision,
        decision_note: data.decisionNote ?? null,
        confidential_until: data.confidentialUntil ?? null,
        state: data.decision === 'refuse' ? 'refused' : 'awaiting_approval',
        registered_by_staff_id: staffIdOf(context.actor),
        registered_at: now,
      })
      .returning('authority_request_id')
      .executeTakeFirstOrThrow();
    await atx.tx
      .insertInto('authority_request_subjects')
      .values(
        subjectIds.map((subjectId) => ({
          tenant_id: context.tenantId,
          authority_request_id: row.authority_request_id,
          subject_id: subjectId,
        })),
      )
      .execute();
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: LEGAL_DISCLOSURE_PURPOSE,
      action: 'authority_request.register',
      subjectIds,
      categories: [...new Set(data.categories)],
      decision: 'allowed',
    });
    return loadRequest(atx.tx, row.authority_request_id);
  });
}

/**
 * Four eyes: another staff member with a role of the legal-disclosure purpose approves the
 * request before anything is disclosed. The one who registered it cannot (nor can the database:
 * a CHECK refuses the same staff id).
 */
export async function approveAuthorityRequest(
  kernel: Kernel,
  context: AccessContext,
  authorityRequestId: number,
): Promise<AuthorityRequest> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMayHandle(policy, context.actor);
  const approver = staffIdOf(context.actor);
  return kernel.transact(context.tenantId, async (atx) => {
    const current = await lockRequest(atx.tx, authorityRequestId);
    if (current.registered_by_staff_id === approver) {
      throw new AppError('forbidden', 'four eyes', {
        publicMessage: 'another staff member must approve a request you registered (four eyes)',
      });
    }
    if (current.state !== 'awaiting_approval') {
      throw new AppError('conflict', `request is ${current.state}`, {
        publicMessage: `this request is ${current.state.replaceAll('_', ' ')}, not awaiting approval`,
      });
    }
    await atx.tx
      .updateTable('authority_requests')
      .set({ state: 'approved', approved_by_staff_id: approver, approved_at: kernel.clock.now() })
      .where('authority_request_id', '=', authorityRequestId)
      .execute();
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: LEGAL_DISCLOSURE_PURPOSE,
      action: 'authority_request.approve',
      records: 1,
      decision: 'allowed',
    });
    return loadRequest(atx.tx, authorityRequestId);
  });
}

const PERSON_FIELDS: ReadonlyArray<{ category: string; field: string; value: (person: Person) => unknown }> =
  [
    { category: 'user.name', field: 'familyName', value: (person) => person.familyName },
    { category: 'user.name', field: 'givenName', value: (person) => person.givenName },
    { category: 'user.contact.email', field: 'email', value: (person) => person.email },
    { category: 'user.contact.phone_number', field: 'phone', value: (person) => person.phone },
    { category: 'user.contact.address', field: 'address', value: (person) => person.address },
  ];

/**
 * Discloses an approved request through the kernel's door: the persons' data of the categories in
 * scope and, when call records are in scope, those of the period still kept (their retention has
 * removed older ones; nothing is kept longer for an authority). The disclosure is logged with the
 * request and its silence; the request is disclosed once (a second call is a conflict).
 */
export async function discloseAuthorityRequest(
  kernel: Kernel,
  context: AccessContext,
  authorityRequestId: number,
): Promise<AuthorityDisclosure> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMayHandle(policy, context.actor);
  return kernel.transact(context.tenantId, async (atx) => {
    const current = await lockRequest(atx.tx, authorityRequestId);
    if (current.state !== 'approved') {
      throw new AppError('conflict', `request is ${current.state}`, {
        publicMessage:
          current.state === 'awaiting_approval'
            ? 'a second staff member must approve this request before anything is disclosed'
            : `this request is ${current.state}: nothing more is disclosed under it`,
      });
    }
    // A person erased since the request was registered (their link kept under the request's
    // silence, decision 0470) has nothing left to disclose: left out, not a refusal of the rest.
    const subjectIds = (
      await atx.tx
        .selectFrom('authority_request_subjects as s')
        .innerJoin('data_subjects as d', (join) =>
          join.onRef('d.tenant_id', '=', 's.tenant_id').onRef('d.subject_id', '=', 's.subject_id'),
        )
        .select('s.subject_id')
        .where('s.authority_request_id', '=', authorityRequestId)
        .where('d.erased_at', 'is', null)
        .execute()
    ).map((row) => row.subject_id);
    const disclosure = await disclose(kernel, atx, context.actor, {
      recipient: current.recipient,
      purpose: current.purpose,
      categories: current.categories,
      subjectIds,
      reference: `authority-request:${authorityRequestId}`,
      destinationCountry: current.authority_country,
      authorityRequestId,
      ...(current.confidential_until ? { confidentialUntil: current.confidential_until } : {}),
      ...(context.requestId ? { requestId: context.requestId } : {}),
    });
    const wanted = new Set(current.categories);
    const fields = PERSON_FIELDS.filter((field) => wanted.has(field.category));
    const persons =
      fields.length === 0
        ? []
        : (await readPeopleUnderGrant(atx.tx, disclosure.grant, disclosure.subjectIds)).map((person) => ({
            subjectId: person.subjectId,
            ...Object.fromEntries(fields.map((field) => [field.field, field.value(person) ?? null])),
          }));
    const callRecords: AuthorityDisclosure['callRecords'] = [];
    if (wanted.has(TELEPHONY_CATEGORIES.callRecord) && current.period_from && current.period_to) {
      const from = new Date(`${current.period_from}T00:00:00Z`);
      const to = new Date(new Date(`${current.period_to}T00:00:00Z`).getTime() + 86_400_000);
      for (const subjectId of disclosure.subjectIds) {
        const calls = await findCallRecordsIn(
          kernel,
          atx,
          { ...context, purpose: current.purpose },
          { from, to, subjectId },
        );
        for (const call of calls)
          callRecords.push({
            subjectId: call.subjectId,
            startedAt: call.startedAt.toISOString(),
            caller: call.callerE164,
            destination: call.destination,
            durationSeconds: call.durationSeconds,
          });
      }
    }
    await atx.tx
      .updateTable('authority_requests')
      .set({
        state: 'disclosed',
        disclosed_by_staff_id: staffIdOf(context.actor),
        disclosed_at: kernel.clock.now(),
        disclosure_id: disclosure.disclosureId,
      })
      .where('authority_request_id', '=', authorityRequestId)
      .execute();
    return { request: await loadRequest(atx.tx, authorityRequestId), persons, callRecords };
  });
}

/** The tenant's authority requests, newest first (the persons by internal id only). */
export async function listAuthorityRequests(
  kernel: Kernel,
  context: AccessContext,
): Promise<AuthorityRequest[]> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertMayHandle(policy, context.actor);
  return kernel.transact(context.tenantId, async (atx) => {
    const ids = await atx.tx
      .selectFrom('authority_requests')
      .select('authority_request_id')
      .orderBy('authority_request_id', 'desc')
      .limit(200)
      .execute();
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : null,
      purpose: LEGAL_DISCLOSURE_PURPOSE,
      action: 'authority_request.list',
      records: ids.length,
      decision: 'allowed',
    });
    return Promise.all(ids.map((row) => loadRequest(atx.tx, row.authority_request_id)));
  });
}

type Tx = Parameters<Parameters<Kernel['transact']>[1]>[0]['tx'];

async function lockRequest(tx: Tx, authorityRequestId: number) {
  const row = await tx
    .selectFrom('authority_requests')
    .selectAll()
    .where('authority_request_id', '=', authorityRequestId)
    .forUpdate()
    .executeTakeFirst();
  if (!row)
    throw new AppError('not_found', 'no such authority request', { publicMessage: 'no such request' });
  return row;
}

async function loadRequest(tx: Tx, authorityRequestId: number): Promise<AuthorityRequest> {
  const row = await tx
    .selectFrom('authority_requests')
    .selectAll()
    .where('authority_request_id', '=', authorityRequestId)
    .executeTakeFirstOrThrow();
  const subjects = await tx
    .selectFrom('authority_request_subjects')
    .select('subject_id')
    .where('authority_request_id', '=', authorityRequestId)
    .orderBy('subject_id')
    .execute();
  return {
    authorityRequestId: row.authority_request_id,
    recipient: row.recipient,
    authority: row.authority,
    country: row.authority_country,
    legalBasis: row.legal_basis_cited,
    orderReference: row.order_reference,
    subjectIds: subjects.map((subject) => subject.subject_id),
    categories: row.categories,
    period: row.period_from && row.period_to ? { from: row.period_from, to: row.period_to } : null,
    decision: row.decision,
    decisionNote: row.decision_note,
    confidentialUntil: row.confidential_until,
    state: row.state,
    registeredBy: row.registered_by_staff_id,
    registeredAt: row.registered_at,
    approvedBy: row.approved_by_staff_id,
    approvedAt: row.approved_at,
    disclosedAt: row.disclosed_at,
    disclosureId: row.disclosure_id,
  };
}

import { sql } from 'kysely';
import { z } from 'zod';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { authorize, type AccessContext } from '../../kernel/gate/access.js';
import { AccessDenied, auditActor, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { Kernel } from '../../kernel/kernel.js';
import { countPendingLetters, deliverLetters, sealLetter } from '../../kernel/letters/index.js';
import { findCategory, findPurpose } from '../../kernel/policy/policy.query.js';
import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import type { Tx } from '../../platform/db.js';
import { assertAcceptedDate } from '../../platform/date-window.js';
import { AppError, describeUnexpected } from '../../platform/errors.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mailer.js';
import { multiLineText } from '../../platform/one-line.js';
import { parseInput } from '../../platform/validation.js';
import { readPeopleUnderGrant } from '../parties/index.js';
import { readStaffContactUnderGrant } from '../staff/index.js';
import { assertAllowed, countAttempt, type Limit } from '../throttle/index.js';
import { recipientsDataMap } from './datamap.js';
import { authorityNotification, personLetter, reminderMail, type IncidentFacts } from './incident.texts.js';

const HOUR = 3_600_000;
/** GDPR Art. 33(1): without undue delay and, where feasible, not later than 72 hours after awareness. */
export const NOTIFICATION_HOURS = 72;
/** Hours after awareness at which the privacy contact is reminded; after the deadline, daily. */
export const REMINDER_HOURS = [0, 24, 48, 60, 68, 72] as const;

export const PUBLIC_FORM_ACTOR: Actor = { kind: 'system', job: 'incident-form' };

export interface IncidentDeps {
  kernel: Kernel;
  mailer: Mailer;
  logger: Logger;
  /** The whole data map: where the persons an incident possibly affected are found. */
  dataMap: readonly TableDataMap[];
  limits?: IncidentFormLimits;
}

/** The public form's limits, counted per tenant (docs/decisions/0075). */
export interface IncidentFormLimits {
  byAddress: Limit;
  byTenant: Limit;
}

export const DEFAULT_INCIDENT_FORM_LIMITS: IncidentFormLimits = {
  byAddress: { bucket: 'incident-form.address', mode: 'block', max: 5, windowMs: HOUR },
  byTenant: { bucket: 'incident-form.tenant', mode: 'block', max: 200, windowMs: HOUR },
};

// No control or text-direction characters: a report is read on screens and in the register (S19-4, 0895).
const description = multiLineText(10, 5000);

export const publicReportSchema = z.strictObject({
  kind: z.enum(['misuse', 'insecurity']),
  description,
  /** The day the reporter noticed it; today when left out. */
  noticedOn: z.iso.date().optional(),
});

export const staffReportSchema = z.strictObject({
  kind: z.enum(['misuse', 'insecurity', 'breach', 'other']),
  description,
  noticedAt: z.iso.datetime({ offset: true }).optional(),
});

export const assessmentSchema = z
  .strictObject({
    isBreach: z.boolean(),
    /** When we became aware of the breach (the 72-hour clock); now when left out. Set once. */
    awareAt: z.iso.datetime({ offset: true }).optional(),
    /** Categories of the policy possibly affected: persons with data of these are found through the data map. */
    affectedCategories: z.array(z.string().max(120)).max(40).default([]),
    /** Tables of the data map possibly affected (e.g. a leaked table); with categories: both must match. */
    affectedTables: z
      .array(z.string().regex(/^[a-z][a-z0-9_]{0,62}$/))
      .max(40)
      .default([]),
    risk: z.enum(['none', 'low', 'high']),
    /** The risk and the measures go into the persons' letters as written: the same rule as whatHappened. */
    riskAssessment: multiLineText(1, 5000),
    measures: multiLineText(1, 5000),
    /** The number of the assessment this one revises (the incident's `assessmentNo`); left out for the first. */
    revises: z.number().int().min(1).optional(),
    /** Why the assessment changed: required when it is lowered (no longer a breach, or a lower risk). */
    changeReason: multiLineText(1, 2000).optional(),
    /**
     * What happened, in the officer's words: the Art. 34 letters and the Art. 33 draft say this,
     * never the report's description (attack S19-4, decision 0895). Required for a breach.
     */
    whatHappened: multiLineText(1, 5000).optional(),
  })
  .refine((input) => !input.isBreach || input.whatHappened !== undefined, {
    message:
      'a breach is described in your own words: the letters to the persons and the notification say it',
    path: ['whatHappened'],
  });

export const authorityDecisionSchema = z
  .strictObject({
    /**
     * `supplemented`: after `notified`, a later phase of information was sent to the authority on a
     * revised assessment (GDPR Art. 33(4), decision 1070).
     */
    decision: z.enum(['notified', 'not_notified', 'supplemented']),
    /** Why: required for not_notified, and for notified after not_notified (decision 1070). */
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .refine((input) => input.decision !== 'not_notified' || input.reason !== undefined, {
    message: 'a breach that is not notified keeps its reason (GDPR Art. 33(5))',
    path: ['reason'],
  });

export const personsDecisionSchema = z
  .strictObject({
    decision: z.enum(['inform', 'not_inform']),
    /** Why: required for not_inform, and for inform after not_inform (e.g. the authority required it, Art. 34(4)). */
    reason: z.string().trim().min(1).max(2000).optional(),
  })
  .refine((input) => input.decision === 'inform' || input.reason !== undefined, {
    message: 'say why the persons are not informed (GDPR Art. 34(3))',
    path: ['reason'],
  });

/** One assessment as it was made (migrations/0840): the register keeps every one. */
export interface IncidentAssessment {
  assessmentNo: number;
  isBreach: boolean;
  risk: 'none' | 'low' | 'high';
  riskAssessment: string;
  measures: string;
  affectedCategories: string[];
  affectedTables: string[];
  affectedCount: number;
  changeReason: string | null;
  /** The officer's text of what happened (null: an assessment made before decision 0895). */
  whatHappened: string | null;
  assessedAt: Date;
  assessedByStaffId: number | null;
}

/** One decision on a breach as it was taken (migrations/1070): the register keeps every one. */
export interface IncidentDecision {
  decisionNo: number;
  addressee: 'authority' | 'persons';
  decision: 'notified' | 'not_notified' | 'supplemented' | 'inform' | 'not_inform';
  reason: string | null;
  /** The assessment it rested on (null: taken before decision 1070). */
  assessmentNo: number | null;
  /** Art. 34 letters this decision queued. */
  lettersQueued: number;
  decidedAt: Date;
  decidedByStaffId: number | null;
}

export interface Incident {
  incidentId: number;
  kind: string;
  source: string;
  description: string;
  noticedAt: Date;
  reportedAt: Date;
  isBreach: boolean;
  awareAt: Date | null;
  /** awareAt + 72 hours, for a breach. */
  deadline: Date | null;
  affectedCategories: string[];
  affectedTables: string[];
  affectedCount: number;
  risk: 'none' | 'low' | 'high' | null;
  riskAssessment: string | null;
  measures: string | null;
  /** The latest assessment's text of what happened, which the letters and the draft say (decision 0895). */
  whatHappened: string | null;
  authorityDecision: 'pending' | 'notified' | 'not_notified';
  authorityReason: string | null;
  personsDecision: 'pending' | 'inform' | 'not_inform';
  personsReason: string | null;
  /** The number of the latest assessment (0: not assessed); a re-assessment names it in `revises`. */
  assessmentNo: number;
  /** Every assessment, oldest first (attack S16-6, decision 0840). */
  assessments: IncidentAssessment[];
  /** Every decision on the breach, oldest first (attack S22-1, decision 1070). */
  decisions: IncidentDecision[];
}

const incidentsMap = (): TableDataMap => tableMap(recipientsDataMap, 'incidents');

/**
 * VK-9: a report of misuse or insecurity from the privacy portal's public form. It asks nothing
 * about the reporter (an answer goes through the channels the statement names), so the answer is
 * the same for everyone; limited per client address and per tenant; the text is scanned (VK-16).
 */
export async function submitPublicIncidentReport(
  deps: Pick<IncidentDeps, 'kernel' | 'limits'>,
  slug: string,
  input: unknown,
  from: { address: string },
): Promise<void> {
  const data = parseInput(publicReportSchema, input);
  const tenant = await deps.kernel.tenants.bySlug(slug);
  assertFreeTextAllowed(incidentsMap(), [
    { column: 'description', field: 'description', value: data.description },
  ]);
  const limits = deps.limits ?? DEFAULT_INCIDENT_FORM_LIMITS;
  const verdict = await countAttempt(deps.kernel, tenant.tenantId, [
    { limit: limits.byAddress, value: from.address },
    { limit: limits.byTenant, value: '' },
  ]);
  assertAllowed(verdict, 'too many reports');
  const now = deps.kernel.clock.now();
  const today = now.toISOString().slice(0, 10);
  // Outside the accepted window (decision 0282) a day is refused, never replaced; a day up to a
  // week ahead (the reporter's time zone) is taken as now.
  if (data.noticedOn !== undefined) assertAcceptedDate(data.noticedOn, now, 'happened', 'noticedOn');
  const noticedAt = data.noticedOn && data.noticedOn < today ? new Date(`${data.noticedOn}T12:00:00Z`) : now;
  await insertIncident(deps.kernel, tenant.tenantId, PUBLIC_FORM_ACTOR, {
    kind: data.kind,
    source: 'public_form',
    description: data.description,
    noticedAt,
  });
}

/** A report entered by any member of staff (a technician who notices something): into the register. */
export async function reportIncidentByStaff(
  kernel: Kernel,
  context: AccessContext,
  input: unknown,
): Promise<{ incidentId: number }> {
  const data = parseInput(staffReportSchema, input);
  assertFreeTextAllowed(incidentsMap(), [
    { column: 'description', field: 'description', value: data.description },
  ]);
  const now = kernel.clock.now();
  const noticedAt = data.noticedAt ? new Date(data.noticedAt) : now;
  assertAcceptedDate(noticedAt, now, 'happened', 'noticedAt');
  if (noticedAt > now) {
    throw new AppError('validation_failed', 'noticed in the future', {
      publicMessage: 'noticedAt: lies in the future',
    });
  }
  return insertIncident(kernel, context.tenantId, context.actor, {
    kind: data.kind,
    source: 'staff',
    description: data.description,
    noticedAt,
  });
}

async function insertIncident(
  kernel: Kernel,
  tenantId: number,
  actor: Actor,
  row: {
    kind: 'misuse' | 'insecurity' | 'breach' | 'other';
    source: 'public_form' | 'staff';
    description: string;
    noticedAt: Date;
  },
): Promise<{ incidentId: number }> {
  // Reported into the register kept under the policy's incident purpose (decision 0061): audited under it.
  const { policy } = await kernel.policies.current(tenantId);
  const purpose = policy.incidents?.purpose ?? null;
  return kernel.transact(tenantId, async (atx) => {
    const inserted = await atx.tx
      .insertInto('incidents')
      .values({
        tenant_id: tenantId,
        kind: row.kind,
        source: row.source,
        description: row.description,
        noticed_at: row.noticedAt,
        reported_at: kernel.clock.now(),
        reported_by_staff_id: actor.kind === 'staff' ? actor.staffId : null,
      })
      .returning('incident_id')
      .executeTakeFirstOrThrow();
    atx.audit.record({
      actor: auditActor(actor),
      role: actor.kind === 'staff' ? actor.role : 'system',
      purpose,
      action: 'incident.report',
      records: 1,
      decision: 'allowed',
    });
    return { incidentId: inserted.incident_id };
  });
}

/** The purpose the register is kept under (the policy's `incidents.purpose`) and its role check. */
export function incidentPurpose(policy: Policy, actor: Actor): string {
  const key = policy.incidents?.purpose;
  const purpose = key === undefined ? undefined : findPurpose(policy, key);
  if (key === undefined || !purpose) {
    throw new AppError('purpose_not_allowed', 'no incident purpose', {
      publicMessage: 'the policy names no purpose for the incident register (incidents.purpose)',
    });
  }
  if (actor.kind === 'staff' && !purpose.roles.includes(actor.role)) {
    throw new AppError('role_not_allowed', 'role may not keep the register', {
      publicMessage: `only ${purpose.roles.join(', ')} may keep the incident register (purpose ${key})`,
    });
  }
  return key;
}

function record(
  atx: { audit: { record: (event: Parameters<AuditedRecord>[0]) => void } },
  actor: Actor,
  purpose: string,
  action: Parameters<AuditedRecord>[0]['action'],
  subjectIds: number[] = [],
): void {
  atx.audit.record({
    actor: auditActor(actor),
    role: actor.kind === 'staff' ? actor.role : 'system',
    purpose,
    action,
    ...(subjectIds.length > 0 ? { subjectIds } : { records: 1 }),
    decision: 'allowed',
  });
}
type AuditedRecord = (event: import('../../kernel/audit/index.js').AuditEvent) => void;

/** The register, newest first. */
export async function listIncidents(kernel: Kernel, context: AccessContext): Promise<Incident[]> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = incidentPurpose(policy, context.actor);
  return kernel.transact(context.tenantId, async (atx) => {
    const rows = await atx.tx
      .selectFrom('incidents')
      .selectAll()
      .orderBy('incident_id', 'desc')
      .limit(200)
      .execute();
    const ids = rows.map((row) => row.incident_id);
    const assessments = await loadAssessments(atx.tx, ids);
    const decisions = await loadDecisions(atx.tx, ids);
    record(atx, context.actor, purpose, 'incident.list');
    return rows.map((row) =>
      present(row, assessments.get(row.incident_id) ?? [], decisions.get(row.incident_id) ?? []),
    );
  });
}

export async function getIncident(
  kernel: Kernel,
  context: AccessContext,
  incidentId: number,
): Promise<Incident> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = incidentPurpose(policy, context.actor);
  return kernel.transact(context.tenantId, async (atx) => {
    const incident = await loadIncident(atx.tx, incidentId);
    record(atx, context.actor, purpose, 'incident.read');
    return incident;
  });
}

/**
 * The officer's assessment: a breach or not, when we became aware (the 72-hour clock; set once),
 * the categories and tables possibly affected and the persons found through the data map, the
 * risk and the measures.
 */
export async function assessIncident(
  deps: Pick<IncidentDeps, 'kernel' | 'dataMap'>,
  context: AccessContext,
  incidentId: number,
  input: unknown,
): Promise<Incident> {
  const { kernel } = deps;
  const data = parseInput(assessmentSchema, input);
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = incidentPurpose(policy, context.actor);
  assertFreeTextAllowed(incidentsMap(), [
    { column: 'risk_assessment', field: 'riskAssessment', value: data.riskAssessment },
    { column: 'measures', field: 'measures', value: data.measures },
    { column: 'what_happened', field: 'whatHappened', value: data.whatHappened },
  ]);
  assertFreeTextAllowed(tableMap(recipientsDataMap, 'incident_assessments'), [
    { column: 'change_reason', field: 'changeReason', value: data.changeReason },
  ]);
  for (const category of data.affectedCategories) {
    if (!findCategory(policy, category)) {
      throw new AppError('validation_failed', 'unknown category', {
        publicMessage: `affectedCategories: "${category}" is not a category of the policy`,
      });
    }
  }
  for (const table of data.affectedTables) {
    if (!deps.dataMap.some((map) => map.table === table)) {
      throw new AppError('validation_failed', 'unknown table', {
        publicMessage: `affectedTables: "${table}" is not a table of the data map`,
      });
    }
  }
  if (!data.isBreach && data.risk !== 'none') {
    // The risk is the breach's risk for the persons (Art. 33, 34): an incident that is no breach has none.
    throw new AppError('validation_failed', 'risk without a breach', {
      publicMessage:
        'risk: an incident that is not a personal-data breach has no risk for the persons: send none',
      details: { issues: [{ path: 'risk', message: 'none when isBreach is false' }] },
    });
  }
  const now = kernel.clock.now();
  const awareAt = data.awareAt ? new Date(data.awareAt) : now;
  // Not before 2000-01-01 (decision 0282): a 72-hour clock of year 0001 means nothing.
  assertAcceptedDate(awareAt, now, 'happened', 'awareAt');
  if (awareAt > now) {
    throw new AppError('validation_failed', 'aware in the future', {
      publicMessage: 'awareAt: lies in the future',
    });
  }
  return kernel.transact(context.tenantId, async (atx) => {
    const current = await loadRow(atx.tx, incidentId, true);
    // A breach assessed before decision 0895 whose authority decision is taken: the persons cannot be
    // informed without the officer's text, so one assessment that only adds it is still taken.
    const completing =
      current.authority_decision !== 'pending' &&
      current.persons_decision === 'pending' &&
      current.is_breach &&
      current.what_happened === null;
    const decided = current.persons_decision !== 'pending' || current.authority_decision !== 'pending';
    const previous = (await loadAssessments(atx.tx, [incidentId])).get(incidentId)?.at(-1);
    assertRevisesLatest(previous, data.revises);
    if (completing) assertOnlyCompletes(current, data);
    // After a decision, a revision is a later phase (Art. 33(4)): it may widen, never narrow (1070).
    else if (decided && previous) assertOnlyWidens(previous, data);
    const found = await findAffectedSubjects(
      atx.tx,
      deps.dataMap,
      data.affectedCategories,
      data.affectedTables,
    );
    // After a decision the persons already linked stay linked (some may have had their letter):
    // the wider scope adds the persons found now.
    const linked = decided
      ? (
          await atx.tx
            .selectFrom('incident_subjects')
            .select('subject_id')
            .where('incident_id', '=', incidentId)
            .execute()
        ).map((link) => link.subject_id)
      : [];
    const subjectIds = [...new Set([...linked, ...found])].sort((a, b) => a - b);
    const added = subjectIds.filter((subjectId) => !linked.includes(subjectId));
    assertChangeExplained(previous, { ...data, affectedCount: subjectIds.length });
    await atx.tx
      .updateTable('incidents')
      .set({
        is_breach: data.isBreach,
        // The clock starts once: a later assessment does not move it.
        aware_at: data.isBreach ? (current.aware_at ?? awareAt) : current.aware_at,
        affected_categories: data.affectedCategories,
        affected_tables: data.affectedTables,
        affected_count: subjectIds.length,
        risk: data.risk,
        risk_assessment: data.riskAssessment,
        measures: data.measures,
        what_happened: data.whatHappened ?? null,
        assessed_at: now,
        assessed_by_staff_id: context.actor.kind === 'staff' ? context.actor.staffId : null,
      })
      .where('incident_id', '=', incidentId)
      .execute();
    // Before any decision no letter went: the links are those of this assessment alone.
    if (!decided)
      await atx.tx.deleteFrom('incident_subjects').where('incident_id', '=', incidentId).execute();
    for (let start = 0; start < added.length; start += 1000) {
      await atx.tx
        .insertInto('incident_subjects')
        .values(
          added.slice(start, start + 1000).map((subjectId) => ({
            tenant_id: context.tenantId,
            incident_id: incidentId,
            subject_id: subjectId,
          })),
        )
        .execute();
    }
    await atx.tx
      .insertInto('incident_assessments')
      .values({
        tenant_id: context.tenantId,
        incident_id: incidentId,
        assessment_no: (previous?.assessmentNo ?? 0) + 1,
        is_breach: data.isBreach,
        risk: data.risk,
        risk_assessment: data.riskAssessment,
        measures: data.measures,
        affected_categories: data.affectedCategories,
        affected_tables: data.affectedTables,
        affected_count: subjectIds.length,
        change_reason: data.changeReason ?? null,
        what_happened: data.whatHappened ?? null,
        assessed_at: now,
        assessed_by_staff_id: context.actor.kind === 'staff' ? context.actor.staffId : null,
      })
      .execute();
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : 'system',
      purpose,
      action: 'incident.assess',
      records: subjectIds.length,
      decision: 'allowed',
      // A re-assessment replaces the register's row: the entry keeps what it replaced (S16-6, 0819).
      reason: `${assessmentWords(data.isBreach, data.risk)}; before: ${
        current.assessed_at === null ? 'not assessed' : assessmentWords(current.is_breach, current.risk)
      }`,
    });
    return loadIncident(atx.tx, incidentId);
  });
}

const RISK_ORDER = { none: 0, low: 1, high: 2 } as const;

/**
 * After the authority decision an assessment only adds the text of what happened (decision 0895):
 * the breach, its risk, categories and tables stay those the decision rested on.
 */
function assertOnlyCompletes(
  current: { risk: string | null; affected_categories: string[]; affected_tables: string[] },
  next: { isBreach: boolean; risk: string; affectedCategories: string[]; affectedTables: string[] },
): void {
  const same = (left: readonly string[], right: readonly string[]): boolean =>
    left.length === right.length && [...left].sort().join(',') === [...right].sort().join(',');
  if (
    next.isBreach &&
    next.risk === current.risk &&
    same(next.affectedCategories, current.affected_categories) &&
    same(next.affectedTables, current.affected_tables)
  )
    return;
  throw new AppError('conflict', 'decided; only the text of what happened may be added', {
    publicMessage:
      'the authority decision is taken on this assessment: it can only be completed with whatHappened, keeping the breach, its risk, categories and tables',
  });
}

/**
 * A revision after the authority or persons decision (decision 1070): the information comes in
 * phases (GDPR Art. 33(4)), so the scope may grow, but what the decisions rested on is not taken
 * back: still a breach, no lower risk, every category and table kept; and it says what was learnt.
 */
function assertOnlyWidens(
  previous: IncidentAssessment,
  next: {
    isBreach: boolean;
    risk: 'none' | 'low' | 'high';
    affectedCategories: string[];
    affectedTables: string[];
    changeReason?: string | undefined;
  },
): void {
  const narrowed = (why: string): AppError =>
    new AppError('conflict', 'a decided breach is not narrowed', {
      publicMessage: `a decision was taken on assessment ${previous.assessmentNo}: a revision may widen the breach, never narrow it (${why}); the register keeps every phase`,
    });
  if (!next.isBreach) throw narrowed('it stays a breach');
  if (RISK_ORDER[next.risk] < RISK_ORDER[previous.risk])
    throw narrowed(`the risk stays at least ${previous.risk}`);
  // An empty list beside a given other one means "all of them" (findAffectedSubjects): wider than any.
  const keptOf = (
    before: readonly string[],
    after: readonly string[],
    other: readonly string[],
    what: string,
  ) => {
    if (after.length === 0 && other.length > 0) return;
    if (before.length === 0) throw narrowed(`every ${what} stays affected`);
    const dropped = before.find((key) => !after.includes(key));
    if (dropped !== undefined) throw narrowed(`${what} ${dropped} stays affected`);
  };
  keptOf(previous.affectedCategories, next.affectedCategories, next.affectedTables, 'category');
  keptOf(previous.affectedTables, next.affectedTables, next.affectedCategories, 'table');
  if (next.changeReason === undefined) {
    throw new AppError('validation_failed', 'a later phase without a reason', {
      publicMessage: `changeReason: say what was learnt since assessment ${previous.assessmentNo}, on which a decision was taken`,
      details: { issues: [{ path: 'changeReason', message: 'required after a decision' }] },
    });
  }
}

/**
 * Two officers assessing at once, or one from a page read before another's assessment: the
 * second would replace what it never saw. An assessment names the one it revises (decision 0840).
 */
function assertRevisesLatest(previous: IncidentAssessment | undefined, revises: number | undefined): void {
  if (previous === undefined && revises === undefined) return;
  if (previous !== undefined && revises === previous.assessmentNo) return;
  const latest = previous === undefined ? 'this incident has no assessment yet: leave revises out' : null;
  throw new AppError('conflict', 'assessment revised meanwhile', {
    publicMessage:
      latest ??
      `assessment ${previous?.assessmentNo} is the latest (made ${previous?.assessedAt.toISOString()}): read it, then send revises: ${previous?.assessmentNo}`,
  });
}

/** A lowered assessment says why (GDPR Art. 33(5): the register documents every breach). */
function assertChangeExplained(
  previous: IncidentAssessment | undefined,
  next: {
    isBreach: boolean;
    risk: 'none' | 'low' | 'high';
    affectedCount: number;
    changeReason?: string | undefined;
  },
): void {
  if (previous === undefined || next.changeReason !== undefined) return;
  // Fewer persons found is lowered too: the Art. 34 letters go to the latest assessment's persons (S17-4).
  const lowered =
    (previous.isBreach && !next.isBreach) ||
    RISK_ORDER[next.risk] < RISK_ORDER[previous.risk] ||
    next.affectedCount < previous.affectedCount;
  if (!lowered) return;
  throw new AppError('validation_failed', 'lowered without a reason', {
    publicMessage: `changeReason: say why assessment ${previous.assessmentNo} (${assessmentWords(previous.isBreach, previous.risk)}, ${previous.affectedCount} persons) is lowered`,
    details: { issues: [{ path: 'changeReason', message: 'required when the assessment is lowered' }] },
  });
}

/** An assessment in the audit entry's reason: fixed words only, never the free texts. */
function assessmentWords(isBreach: boolean, risk: string | null): string {
  return `${isBreach ? 'a breach' : 'not a breach'}, risk ${risk ?? 'not stated'}`;
}

/**
 * The persons with a value in a column of the affected categories (and tables), walking the data
 * map: every table with a subject column, every personal column it classifies. Returns ids only.
 */
export async function findAffectedSubjects(
  tx: Tx,
  dataMap: readonly TableDataMap[],
  categories: readonly string[],
  tables: readonly string[],
): Promise<number[]> {
  if (categories.length === 0 && tables.length === 0) return [];
  const found = new Set<number>();
  for (const map of dataMap) {
    if (!map.subjectColumn || (tables.length > 0 && !tables.includes(map.table))) continue;
    const columns = Object.entries(map.personal)
      .filter(
        ([, column]) =>
          !column.blindIndexOf && (categories.length === 0 || categories.includes(column.category)),
      )
      .map(([name]) => name);
    if (columns.length === 0) continue;
    const anyValue = sql.join(
      columns.map((column) => sql`${sql.ref(column)} is not null`),
      sql` or `,
    );
    const rows = await sql<{
      subject_id: number | string;
    }>`select distinct ${sql.ref(map.subjectColumn)} as subject_id
      from ${sql.table(map.table)} where ${sql.ref(map.subjectColumn)} is not null and (${anyValue})`.execute(
      tx,
    );
    for (const row of rows.rows) found.add(Number(row.subject_id));
  }
  // Erased persons have nothing left to lose.
  if (found.size === 0) return [];
  const alive = await tx
    .selectFrom('data_subjects')
    .select('subject_id')
    .where('subject_id', '=', (eb) => eb.fn.any(eb.val([...found])))
    .where('erased_at', 'is', null)
    .orderBy('subject_id')
    .execute();
  return alive.map((row) => row.subject_id);
}

async function factsOf(tx: Tx, row: IncidentRow, now: Date): Promise<IncidentFacts> {
  const awareAt = row.aware_at ?? now;
  const deadline = new Date(awareAt.getTime() + NOTIFICATION_HOURS * HOUR);
  const types = await tx
    .selectFrom('incident_subjects as i')
    .innerJoin('data_subjects as s', (join) =>
      join.onRef('s.tenant_id', '=', 'i.tenant_id').onRef('s.subject_id', '=', 'i.subject_id'),
    )
    .select('s.subject_type')
    .distinct()
    .where('i.incident_id', '=', row.incident_id)
    .orderBy('s.subject_type')
    .execute();
  if (row.what_happened === null) {
    // An assessment made before decision 0895: the report's own words are never mailed or notified.
    throw new AppError('conflict', 'no text of what happened', {
      publicMessage:
        'the assessment does not say what happened in your words (it was made before they were asked): record an assessment with whatHappened first; the letters and the notification say that text, never the report',
    });
  }
  return {
    incidentId: row.incident_id,
    whatHappened: row.what_happened,
    noticedAt: row.noticed_at,
    awareAt,
    deadline,
    hoursLeft: Math.ceil((deadline.getTime() - now.getTime()) / HOUR),
    affectedCount: row.affected_count,
    subjectTypes: types.map((type) => type.subject_type),
    categories: row.affected_categories,
    risk: row.risk,
    riskAssessment: row.risk_assessment,
    measures: row.measures,
  };
}

/** The notification for the Belgian authority (Art. 33(3)), in its language (nl or fr). */
export async function draftAuthorityNotification(
  kernel: Kernel,
  context: AccessContext,
  incidentId: number,
  language?: 'nl' | 'fr',
): Promise<{ language: 'nl' | 'fr'; deadline: Date; hoursLeft: number; subject: string; text: string }> {
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = incidentPurpose(policy, context.actor);
  const lang = language ?? policy.incidents?.authorityLanguage ?? 'nl';
  return kernel.transact(context.tenantId, async (atx) => {
    const row = await loadRow(atx.tx, incidentId);
    if (!row.is_breach) {
      throw new AppError('conflict', 'not a breach', {
        publicMessage: 'only a personal-data breach is notified: assess the incident as one first',
      });
    }
    const facts = await factsOf(atx.tx, row, kernel.clock.now());
    record(atx, context.actor, purpose, 'incident.draft');
    return {
      language: lang,
      deadline: facts.deadline,
      hoursLeft: facts.hoursLeft,
      ...authorityNotification(policy, facts, lang),
    };
  });
}

/** The authority was notified, or the reason it was not (Art. 33(5)): the clock stops either way. */
export async function decideAuthorityNotification(
  kernel: Kernel,
  context: AccessContext,
  incidentId: number,
  input: unknown,
): Promise<Incident> {
  const data = parseInput(authorityDecisionSchema, input);
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = incidentPurpose(policy, context.actor);
  assertFreeTextAllowed(incidentsMap(), [
    { column: 'authority_reason', field: 'reason', value: data.reason },
  ]);
  return kernel.transact(context.tenantId, async (atx) => {
    const row = await loadRow(atx.tx, incidentId, true);
    if (!row.is_breach)
      throw new AppError('conflict', 'not a breach', { publicMessage: 'this incident is not a breach' });
    await assertAuthorityDecisionFollows(atx.tx, row, data);
    if (data.decision === 'not_notified' && row.risk !== 'none') {
      // Art. 33(1): not notifying is for a breach unlikely to result in a risk (attack S17-2, 0842).
      throw new AppError('conflict', 'a risk is not notified', {
        publicMessage: `the assessment finds a ${row.risk ?? 'not stated'} risk for the persons: GDPR Art. 33(1) requires notifying the authority; to decide otherwise, revise the assessment to no risk, with its reason, first`,
      });
    }
    const now = kernel.clock.now();
    // A supplement leaves the decision (notified) as it is; the register's list records it.
    if (data.decision !== 'supplemented')
      await atx.tx
        .updateTable('incidents')
        .set({
          authority_decision: data.decision,
          authority_reason: data.reason ?? null,
          authority_decided_at: now,
        })
        .where('incident_id', '=', incidentId)
        .execute();
    await appendDecision(atx.tx, context, incidentId, now, {
      addressee: 'authority',
      decision: data.decision,
      reason: data.reason ?? null,
      lettersQueued: 0,
    });
    const words = { notified: 'notified', not_notified: 'not notified', supplemented: 'supplemented' };
    atx.audit.record({
      actor: auditActor(context.actor),
      role: context.actor.kind === 'staff' ? context.actor.role : 'system',
      purpose,
      action: `incident.authority.${data.decision}`,
      records: 1,
      decision: 'allowed',
      // Fixed words, never the free-text reason (0819): what the decision rested on.
      reason: `${words[data.decision]}${row.authority_decision === 'pending' ? '' : `; before: ${row.authority_decision}`}; assessed ${assessmentWords(row.is_breach, row.risk)}`,
    });
    return loadIncident(atx.tx, incidentId);
  });
}

/**
 * Which authority decision may follow which (decision 1070): the first is notified or not_notified;
 * not_notified may be followed by notified, with its reason (the risk turned out otherwise, the
 * authority asked); notified by supplemented, once per revised assessment (Art. 33(4): in phases).
 * What was notified is never recorded as not notified.
 */
async function assertAuthorityDecisionFollows(
  tx: Tx,
  row: IncidentRow,
  data: z.infer<typeof authorityDecisionSchema>,
): Promise<void> {
  const already = (hint: string): AppError =>
    new AppError('conflict', 'already decided', {
      publicMessage: `the authority decision is already ${row.authority_decision}${hint}`,
    });
  if (row.authority_decision === 'pending') {
    if (data.decision === 'supplemented')
      throw already(': nothing was notified yet to supplement; record notified first');
    return;
  }
  if (row.authority_decision === 'not_notified') {
    if (data.decision !== 'notified')
      throw already('; a later notification is recorded as notified, with its reason');
    if (data.reason === undefined) {
      throw new AppError('validation_failed', 'a changed decision without a reason', {
        publicMessage: 'reason: say why the authority is notified after all (the decision was not_notified)',
        details: { issues: [{ path: 'reason', message: 'required when a decision is changed' }] },
      });
    }
    return;
  }
  if (data.decision !== 'supplemented')
    throw already(
      '; information found later is sent as a supplement: record supplemented after revising the assessment',
    );
  const lastNotice = await tx
    .selectFrom('incident_decisions')
    .select(['assessment_no', 'decided_at'])
    .where('incident_id', '=', row.incident_id)
    .where('addressee', '=', 'authority')
    .orderBy('decision_no', 'desc')
    .limit(1)
    .executeTakeFirst();
  const latest = await tx
    .selectFrom('incident_assessments')
    .select(['assessment_no', 'assessed_at'])
    .where('incident_id', '=', row.incident_id)
    .orderBy('assessment_no', 'desc')
    .limit(1)
    .executeTakeFirst();
  const revisedSince =
    latest !== undefined &&
    (lastNotice === undefined ||
      (lastNotice.assessment_no !== null
        ? latest.assessment_no > lastNotice.assessment_no
        : latest.assessed_at > lastNotice.decided_at));
  if (!revisedSince) {
    throw new AppError('conflict', 'nothing new to supplement', {
      publicMessage:
        'the authority already has what the latest assessment says: revise the assessment with what was learnt, then record the supplement',
    });
  }
}

/**
 * Art. 34: inform the persons affected (a letter to each, in their language, to the e-mail
 * address on file, read under the incident purpose through the gate), or record why not. The
 * decision is taken once, under the incident's row lock, and each letter is claimed and written to
 * the letter outbox in that same transaction (decision 0863): a second call at the same moment (a
 * double click, a retry) waits for the first and gets 409, so no person is mailed twice (attack
 * A3), and a crash or an SMTP failure after the commit leaves the letters for the letter sender
 * instead of losing them. The outbox is sent right after; what SMTP did not take yet is counted as
 * waiting and retried by the letter sender.
 */
export async function decidePersonsNotification(
  deps: Pick<IncidentDeps, 'kernel' | 'mailer' | 'logger'> & { messageDomain: string },
  context: AccessContext,
  incidentId: number,
  input: unknown,
): Promise<Incident & PersonsLetters> {
  const { kernel } = deps;
  const data = parseInput(personsDecisionSchema, input);
  const { policy } = await kernel.policies.current(context.tenantId);
  const purpose = incidentPurpose(policy, context.actor);
  assertFreeTextAllowed(incidentsMap(), [{ column: 'persons_reason', field: 'reason', value: data.reason }]);
  const prepared = await kernel.transact(context.tenantId, async (atx) => {
    const row = await loadRow(atx.tx, incidentId, true);
    if (!row.is_breach)
      throw new AppError('conflict', 'not a breach', { publicMessage: 'this incident is not a breach' });
    // Art. 34(4): the authority may require informing the persons after a not_inform (1070).
    const changing = row.persons_decision === 'not_inform' && data.decision === 'inform';
    if (row.persons_decision !== 'pending' && row.persons_decision !== data.decision && !changing) {
      throw new AppError('conflict', 'already decided', {
        publicMessage: `the persons decision is already ${row.persons_decision}: letters sent are not taken back`,
      });
    }
    if (changing && data.reason === undefined) {
      throw new AppError('validation_failed', 'a changed decision without a reason', {
        publicMessage:
          'reason: say why the persons are informed after all (the decision was not_inform; e.g. the authority required it, GDPR Art. 34(4))',
        details: { issues: [{ path: 'reason', message: 'required when a decision is changed' }] },
      });
    }
    if (data.decision === 'not_inform' && row.risk === 'high') {
      // The statement promises it (promise incident_register) and Art. 34(1) asks it (decision 0842).
      throw new AppError('conflict', 'a high risk is not kept from the persons', {
        publicMessage:
          'the assessment finds a high risk for the persons: our privacy statement and GDPR Art. 34(1) say they are informed; to decide otherwise, revise the assessment, with its reason, first',
      });
    }
    if (row.persons_decision === 'pending' || changing) {
      await atx.tx
        .updateTable('incidents')
        .set({
          persons_decision: data.decision,
          persons_reason: data.reason ?? null,
          persons_decided_at: kernel.clock.now(),
        })
        .where('incident_id', '=', incidentId)
        .execute();
      record(atx, context.actor, purpose, `incident.persons.${data.decision}`);
    }
    const decidedBefore = row.persons_decision !== 'pending' && !changing;
    const already = (): AppError =>
      new AppError('conflict', 'already decided', {
        publicMessage: `the persons decision is already ${row.persons_decision}`,
      });
    if (data.decision === 'not_inform') {
      if (decidedBefore) throw already();
      await appendDecision(atx.tx, context, incidentId, kernel.clock.now(), {
        addressee: 'persons',
        decision: 'not_inform',
        reason: data.reason ?? null,
        lettersQueued: 0,
      });
      return { letterIds: [], withoutAddress: 0, notReached: 0 };
    }
    const pending = await atx.tx
      .selectFrom('incident_subjects as i')
      .innerJoin('data_subjects as s', (join) =>
        join.onRef('s.tenant_id', '=', 'i.tenant_id').onRef('s.subject_id', '=', 'i.subject_id'),
      )
      .select(['i.subject_id', 's.subject_type'])
      .where('i.incident_id', '=', incidentId)
      .where('i.letter_sent_at', 'is', null)
      .where('s.erased_at', 'is', null)
      .orderBy('i.subject_id')
      .execute();
    const purposeCategories = policy.purposes[purpose]?.categories ?? [];
    const facts = await factsOf(atx.tx, row, kernel.clock.now());
    const fromName = `${policy.controller.legalName} ${policy.controller.legalForm}`;
    const queued: Array<{ subjectId: number; letterId: string }> = [];
    let withoutAddress = 0;
    let notReached = 0;
    // Letters queued before (letter_sent_at) are not queued again.
    for (const person of pending) {
      // Only the categories the policy keeps for this person's type (staff have no language, …).
      const categories = purposeCategories.filter((key) =>
        findCategory(policy, key)?.subjectTypes.includes(person.subject_type),
      );
      let contact: { email: string; name: string; language: Language } | undefined;
      try {
        const grant = await authorize(kernel, atx, { ...context, purpose }, 'read', categories, [
          person.subject_id,
        ]);
        contact = await contactOf(atx.tx, grant, person, policy);
      } catch (error) {
        // A person the purpose does not reach gets no letter; the refusal is on record and counted.
        if (!(error instanceof AccessDenied)) throw error;
        atx.audit.record(error.auditEvent);
        notReached += 1;
        continue;
      }
      if (!contact) {
        withoutAddress += 1;
        continue;
      }
      const mail = personLetter(policy, facts, contact.language, contact.name);
      const letterId = await sealLetter(
        kernel,
        atx.tx,
        { to: contact.email, subject: mail.subject, text: mail.text, fromName },
        {
          tenantId: context.tenantId,
          purpose,
          kind: 'incident.person_letter',
          messageDomain: deps.messageDomain,
        },
      );
      queued.push({ subjectId: person.subject_id, letterId });
    }
    // Taken before, and nobody left to write to: no second answer.
    if (decidedBefore && queued.length === 0) throw already();
    // The first decision, a changed one, or a later phase to persons found since (1070): on record.
    if (decidedBefore) record(atx, context.actor, purpose, 'incident.persons.inform');
    await appendDecision(atx.tx, context, incidentId, kernel.clock.now(), {
      addressee: 'persons',
      decision: 'inform',
      reason: data.reason ?? null,
      lettersQueued: queued.length,
    });
    if (queued.length > 0)
      await atx.tx
        .updateTable('incident_subjects')
        .set({ letter_sent_at: kernel.clock.now() })
        .where('incident_id', '=', incidentId)
        .where(
          'subject_id',
          'in',
          queued.map((letter) => letter.subjectId),
        )
        .where('letter_sent_at', 'is', null)
        .execute();
    return { letterIds: queued.map((letter) => letter.letterId), withoutAddress, notReached };
  });
  const letters = await sendOutbox(deps, context.tenantId, prepared.letterIds);
  const incident = await getIncident(kernel, context, incidentId);
  return {
    ...incident,
    ...letters,
    lettersWithoutAddress: prepared.withoutAddress,
    personsNotReached: prepared.notReached,
  };
}

/**
 * Where a breach letter to an affected person goes, read under `grant`: a staff member's account
 * address (they are persons too, attack S18-1), anyone else's address on file; undefined without one.
 */
async function contactOf(
  tx: Tx,
  grant: Grant,
  person: { subject_id: number; subject_type: string },
  policy: Policy,
): Promise<{ email: string; name: string; language: Language } | undefined> {
  const fallback: Language = policy.statement.languages[0] ?? 'nl';
  if (person.subject_type === 'staff') {
    const staff = await readStaffContactUnderGrant(tx, grant, person.subject_id);
    return staff?.email ? { ...staff, language: fallback } : undefined;
  }
  const [read] = await readPeopleUnderGrant(tx, grant, [person.subject_id]);
  if (!read?.email) return undefined;
  const preferred = read.preferredLanguage;
  return {
    email: read.email,
    name: [read.givenName, read.familyName].filter(Boolean).join(' '),
    language: preferred === 'nl' || preferred === 'fr' || preferred === 'en' ? preferred : fallback,
  };
}

export interface PersonsLetters {
  /** Letters of this decision SMTP accepted before the answer. */
  lettersSent: number;
  /** Letters of this decision still in the outbox (SMTP refused for now): the letter sender retries them. */
  lettersWaiting: number;
  /** Affected persons with no e-mail address on file: they get no letter. */
  lettersWithoutAddress: number;
  /** Affected persons the incident purpose does not reach (the refusal is audited); none under a valid policy. */
  personsNotReached: number;
}

/** Sends the tenant's outbox now and counts which of `letterIds` are still waiting; a failure leaves them to the letter sender. */
async function sendOutbox(
  deps: Pick<IncidentDeps, 'kernel' | 'mailer' | 'logger'>,
  tenantId: number,
  letterIds: readonly string[],
): Promise<Pick<PersonsLetters, 'lettersSent' | 'lettersWaiting'>> {
  if (letterIds.length === 0) return { lettersSent: 0, lettersWaiting: 0 };
  try {
    await deliverLetters(deps.kernel, deps.mailer, [tenantId], deps.logger);
  } catch (error) {
    deps.logger.warn(
      { err: describeUnexpected(error) },
      'breach letters not sent now; the letter sender retries',
    );
  }
  const waiting = await countPendingLetters(deps.kernel, tenantId, letterIds).catch(() => letterIds.length);
  return { lettersSent: letterIds.length - waiting, lettersWaiting: waiting };
}

/** The reminder due `hours` after awareness: the last of REMINDER_HOURS passed, then daily. */
export function dueReminderHour(hours: number): number | null {
  if (hours < 0) return null;
  if (hours >= NOTIFICATION_HOURS)
    return NOTIFICATION_HOURS + 24 * Math.floor((hours - NOTIFICATION_HOURS) / 24);
  return [...REMINDER_HOURS].reverse().find((stage) => stage <= hours) ?? null;
}

/**
 * Reminds the privacy contact of every breach still on the clock (neither notified nor recorded as
 * not notified): at awareness, after 24, 48, 60 and 68 hours, at the deadline, then daily. Each
 * reminder is claimed and written to the letter outbox in one transaction (decision 0850): two
 * processes queue it once, and a crash or an SMTP failure after the claim leaves the letter for
 * the letter sender instead of losing it. Returns how many reminders were queued; the caller
 * (the breach-clock job) sends the outbox right after.
 */
export async function queueBreachReminders(
  kernel: Kernel,
  tenantId: number,
  options: { messageDomain: string },
): Promise<number> {
  const { policy } = await kernel.policies.current(tenantId);
  if (!policy.incidents) return 0;
  const purpose = policy.incidents.purpose;
  const now = kernel.clock.now();
  const open = await kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('incidents')
      .select(['incident_id', 'aware_at', 'last_reminder_hour'])
      .where('is_breach', '=', true)
      .where('authority_decision', '=', 'pending')
      .execute(),
  );
  let queued = 0;
  for (const breach of open) {
    const awareAt = breach.aware_at;
    if (!awareAt) continue;
    const due = dueReminderHour(Math.floor((now.getTime() - awareAt.getTime()) / HOUR));
    if (due === null || (breach.last_reminder_hour !== null && breach.last_reminder_hour >= due)) continue;
    const deadline = new Date(awareAt.getTime() + NOTIFICATION_HOURS * HOUR);
    const mail = reminderMail(
      policy,
      {
        incidentId: breach.incident_id,
        awareAt,
        deadline,
        hoursLeft: Math.ceil((deadline.getTime() - now.getTime()) / HOUR),
      },
      policy.statement.languages[0] ?? 'nl',
    );
    const claimed = await kernel.plain(tenantId, async (tx) => {
      const row = await tx
        .updateTable('incidents')
        .set({ last_reminder_hour: due })
        .where('incident_id', '=', breach.incident_id)
        .where('authority_decision', '=', 'pending')
        .where((eb) => eb.or([eb('last_reminder_hour', 'is', null), eb('last_reminder_hour', '<', due)]))
        .returning('incident_id')
        .executeTakeFirst();
      if (!row) return false;
      // The step and its mail commit together: claimed means queued, never claimed and lost.
      await sealLetter(
        kernel,
        tx,
        {
          to: policy.controller.privacyContact.email,
          subject: mail.subject,
          text: mail.text,
          fromName: 'Kluis',
        },
        { tenantId, purpose, kind: 'incident.breach_reminder', messageDomain: options.messageDomain },
      );
      return true;
    });
    if (claimed) queued += 1;
  }
  return queued;
}

type IncidentRow = Awaited<ReturnType<typeof loadRow>>;

async function loadRow(tx: Tx, incidentId: number, forUpdate = false) {
  let query = tx.selectFrom('incidents').selectAll().where('incident_id', '=', incidentId);
  if (forUpdate) query = query.forUpdate();
  const row = await query.executeTakeFirst();
  if (!row) throw new AppError('not_found', 'no such incident', { publicMessage: 'no such incident' });
  return row;
}

async function loadIncident(tx: Tx, incidentId: number): Promise<Incident> {
  const row = await loadRow(tx, incidentId);
  return present(
    row,
    (await loadAssessments(tx, [incidentId])).get(incidentId) ?? [],
    (await loadDecisions(tx, [incidentId])).get(incidentId) ?? [],
  );
}

/** The decisions on these incidents, oldest first per incident. */
async function loadDecisions(tx: Tx, incidentIds: number[]): Promise<Map<number, IncidentDecision[]>> {
  const byIncident = new Map<number, IncidentDecision[]>();
  if (incidentIds.length === 0) return byIncident;
  const rows = await tx
    .selectFrom('incident_decisions')
    .selectAll()
    .where('incident_id', '=', (eb) => eb.fn.any(eb.val(incidentIds)))
    .orderBy('incident_id')
    .orderBy('decision_no')
    .execute();
  for (const row of rows) {
    const list = byIncident.get(row.incident_id) ?? [];
    list.push({
      decisionNo: row.decision_no,
      addressee: row.addressee,
      decision: row.decision,
      reason: row.reason,
      assessmentNo: row.assessment_no,
      lettersQueued: row.letters_queued,
      decidedAt: row.decided_at,
      decidedByStaffId: row.decided_by_staff_id,
    });
    byIncident.set(row.incident_id, list);
  }
  return byIncident;
}

/**
 * Appends a decision to the register (decision 1070), numbered after the incident's last; the
 * caller holds the incident's row lock, so two decisions never take the same number.
 */
async function appendDecision(
  tx: Tx,
  context: AccessContext,
  incidentId: number,
  at: Date,
  decision: Pick<IncidentDecision, 'addressee' | 'decision' | 'reason' | 'lettersQueued'>,
): Promise<void> {
  const last = await tx
    .selectFrom('incident_decisions')
    .select((eb) => eb.fn.max('decision_no').as('no'))
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  const latest = await tx
    .selectFrom('incident_assessments')
    .select((eb) => eb.fn.max('assessment_no').as('no'))
    .where('incident_id', '=', incidentId)
    .executeTakeFirst();
  await tx
    .insertInto('incident_decisions')
    .values({
      tenant_id: context.tenantId,
      incident_id: incidentId,
      decision_no: (last?.no ?? 0) + 1,
      addressee: decision.addressee,
      decision: decision.decision,
      reason: decision.reason,
      assessment_no: latest?.no ?? null,
      letters_queued: decision.lettersQueued,
      decided_at: at,
      decided_by_staff_id: context.actor.kind === 'staff' ? context.actor.staffId : null,
    })
    .execute();
}

/** The assessments of these incidents, oldest first per incident. */
async function loadAssessments(tx: Tx, incidentIds: number[]): Promise<Map<number, IncidentAssessment[]>> {
  const byIncident = new Map<number, IncidentAssessment[]>();
  if (incidentIds.length === 0) return byIncident;
  const rows = await tx
    .selectFrom('incident_assessments')
    .selectAll()
    .where('incident_id', '=', (eb) => eb.fn.any(eb.val(incidentIds)))
    .orderBy('incident_id')
    .orderBy('assessment_no')
    .execute();
  for (const row of rows) {
    const list = byIncident.get(row.incident_id) ?? [];
    list.push({
      assessmentNo: row.assessment_no,
      isBreach: row.is_breach,
      risk: row.risk,
      riskAssessment: row.risk_assessment,
      measures: row.measures,
      affectedCategories: row.affected_categories,
      affectedTables: row.affected_tables,
      affectedCount: row.affected_count,
      changeReason: row.change_reason,
      whatHappened: row.what_happened,
      assessedAt: row.assessed_at,
      assessedByStaffId: row.assessed_by_staff_id,
    });
    byIncident.set(row.incident_id, list);
  }
  return byIncident;
}

function present(
  row: {
    incident_id: number;
    kind: string;
    source: string;
    description: string;
    noticed_at: Date;
    reported_at: Date;
    is_breach: boolean;
    aware_at: Date | null;
    affected_categories: string[];
    affected_tables: string[];
    affected_count: number;
    risk: 'none' | 'low' | 'high' | null;
    risk_assessment: string | null;
    measures: string | null;
    what_happened: string | null;
    authority_decision: 'pending' | 'notified' | 'not_notified';
    authority_reason: string | null;
    persons_decision: 'pending' | 'inform' | 'not_inform';
    persons_reason: string | null;
  },
  assessments: IncidentAssessment[],
  decisions: IncidentDecision[],
): Incident {
  return {
    incidentId: row.incident_id,
    kind: row.kind,
    source: row.source,
    description: row.description,
    noticedAt: row.noticed_at,
    reportedAt: row.reported_at,
    isBreach: row.is_breach,
    awareAt: row.aware_at,
    deadline:
      row.aware_at && row.is_breach ? new Date(row.aware_at.getTime() + NOTIFICATION_HOURS * HOUR) : null,
    affectedCategories: row.affected_categories,
    affectedTables: row.affected_tables,
    affectedCount: row.affected_count,
    risk: row.risk,
    riskAssessment: row.risk_assessment,
    measures: row.measures,
    whatHappened: row.what_happened,
    authorityDecision: row.authority_decision,
    authorityReason: row.authority_reason,
    personsDecision: row.persons_decision,
    personsReason: row.persons_reason,
    assessmentNo: assessments.at(-1)?.assessmentNo ?? 0,
    assessments,
    decisions,
  };
}

import type { Compilable, CompiledQuery, Expression } from 'kysely';
import { AppError, type ErrorCode, type ProblemDetails } from '../../platform/errors.js';
import type { AuditEvent, AuditedTx, GateAuditReason } from '../audit/index.js';
import type { FieldRef, KeyScope, Keyring } from '../keyring/keyring.js';
import type { Clock } from '../../platform/clock.js';
import { findCategory, findPurpose } from '../policy/policy.query.js';
import type { Policy, Purpose } from '../policy/policy.schema.js';
import {
  selectSubjectStates,
  selectSubjectStatesForPurposes,
  subjectStatesWithRows,
  type SubjectStateRow,
} from '../subjects/subject.repository.js';
import type { TenantPolicyStore } from '../tenant-policy/index.js';
import { isHeadersOnly, HeadersOnlyStop } from '../../platform/headers-only.js';

/** Who is acting. A use case receives this as plain data, never an HTTP request. */
export type Actor =
  | { kind: 'staff'; staffId: number; role: string }
  | { kind: 'subject'; subjectId: number }
  | { kind: 'system'; job: string };

/**
 * - read / write / export: ordinary processing under the purpose;
 * - store: only keeping data (allowed while a subject is restricted, GDPR Art. 18(2));
 * - erase: erasure and retention, always allowed on a subject that is not yet erased.
 */
export type AccessAction = 'read' | 'write' | 'export' | 'store' | 'erase';

export interface AccessRequest {
  purpose: string;
  action: AccessAction;
  categories: readonly string[];
  subjectIds: readonly number[];
  requestId?: string;
  /**
   * Set by the disclosure door alone (kernel/disclosure), which checks the recipient and logs
   * what leaves: the only request a `disclosureOnly` purpose serves (decision 0872).
   */
  disclosure?: true;
  /**
   * Set by the dispute use cases alone (billing): the request records or settles a legal claim on
   * an invoice (Art. 18(2)), which a purpose marked `readWhileRestricted` may also write for a
   * restricted person (decision 0950).
   */
  legalClaim?: true;
  /**
   * Set by the call-record import's keeping alone (telephony `authorizeKeeping`): a `store` of what
   * the switch recorded by itself, the one store a job may do for a minor without a parent's
   * consent (decisions 0904, 0952).
   */
  keepsRecorded?: true;
}

export type DenialCode = Extract<
  ErrorCode,
  | 'purpose_not_allowed'
  | 'role_not_allowed'
  | 'category_not_allowed'
  | 'recipient_not_allowed'
  | 'transfer_not_allowed'
  | 'subject_restricted'
  | 'subject_objected'
  | 'consent_missing'
  | 'subject_erased'
  | 'not_found'
  | 'forbidden'
>;

const GRANT_TOKEN = Symbol('grant');

/**
 * Proof that the gate allowed an access. Only the gate can make one (the constructor needs a
 * module-private token), and repositories that return or write personal fields take one, so
 * personal data cannot be read or written around the gate. It also carries the keys: encrypted
 * fields are decrypted through a grant that covers their category and subject, or not at all.
 */
export class Grant {
  readonly tenantId: number;
  readonly purpose: string;
  readonly action: AccessAction;
  readonly actor: Actor;
  readonly categories: ReadonlySet<string>;
  readonly subjectIds: ReadonlySet<number>;
  readonly #keyring: Keyring;

  constructor(
    token: typeof GRANT_TOKEN,
    fields: {
      tenantId: number;
      purpose: string;
      action: AccessAction;
      actor: Actor;
      categories: readonly string[];
      subjectIds: readonly number[];
    },
    keyring: Keyring,
  ) {
    if (token !== GRANT_TOKEN) throw new Error('grants are issued by the access gate only');
    this.tenantId = fields.tenantId;
    this.purpose = fields.purpose;
    this.action = fields.action;
    this.actor = fields.actor;
    this.categories = new Set(fields.categories);
    this.subjectIds = new Set(fields.subjectIds);
    this.#keyring = keyring;
  }

  /** Throws unless this grant covers the category for the subject. */
  assertCovers(category: string, subjectId: number): void {
    if (!this.categories.has(category) || !this.subjectIds.has(subjectId)) {
      throw new AppError(
        'category_not_allowed',
        `grant for ${this.purpose} does not cover ${category} of this subject`,
      );
    }
  }

  assertWritable(): void {
    if (this.action === 'read' || this.action === 'export') {
      throw new AppError('forbidden', `a ${this.action} grant cannot change data`);
    }
  }

  /**
   * Loads the data keys of the grant's subjects among `subjectIds` in one key-store read before a
   * list is decrypted (decision 0605); each field is still decrypted through `decrypt`.
   */
  async loadKeys(subjectIds: Iterable<number>, scope: KeyScope = 'subject'): Promise<void> {
    const covered = [...subjectIds].filter((subjectId) => this.subjectIds.has(subjectId));
    await this.#keyring.loadSubjectKeys(this.tenantId, covered, scope);
  }

  /** `scope` 'dossier': under the key of the subject's technical dossier, not the subject's own. */
  async encrypt(
    category: string,
    subjectId: number,
    ref: FieldRef,
    plaintext: string,
    scope: KeyScope = 'subject',
  ): Promise<Buffer> {
    this.assertCovers(category, subjectId);
    this.assertWritable();
    return this.#keyring.encrypt(this.tenantId, subjectId, ref, plaintext, scope);
  }

  /** `null` when the key (of the subject, or of its dossier) has been destroyed (crypto-shredded). */
  async decrypt(
    category: string,
    subjectId: number,
    ref: FieldRef,
    ciphertext: Buffer,
    scope: KeyScope = 'subject',
  ): Promise<string | null> {
    this.assertCovers(category, subjectId);
    return this.#keyring.decrypt(this.tenantId, subjectId, ref, ciphertext, scope);
  }

  /**
   * Crypto-shreds the subject's dossier key; only an erase grant for that subject may. Done
   * before the rows go, so that a failure half-way leaves unreadable rows rather than a live key.
   * Returns false when there was no live key.
   */
  async destroyKey(subjectId: number, scope: Exclude<KeyScope, 'subject'>): Promise<boolean> {
    // The subject's own key is destroyed by the kernel's erasure alone (held data may need it).
    if (this.action !== 'erase' || !this.subjectIds.has(subjectId)) {
      throw new AppError('forbidden', `a ${this.action} grant cannot destroy keys`);
    }
    return this.#keyring.destroySubjectKey(this.tenantId, subjectId, scope);
  }

  /** Keyed hash for exact-match search on an encrypted field; needs no subject. */
  async blindIndex(category: string, field: string, normalisedValue: string): Promise<Buffer> {
    if (!this.categories.has(category)) {
      throw new AppError('category_not_allowed', `grant for ${this.purpose} does not cover ${category}`);
    }
    return this.#keyring.blindIndex(this.tenantId, field, normalisedValue);
  }
}

export interface GateDependencies {
  policies: TenantPolicyStore;
  keyring: Keyring;
  clock: Clock;
}

/**
 * A refusal by the gate. It carries its audit entry: the caller's transaction rolls back, so
 * `Kernel.transact` appends the entry on its own once that transaction has ended (appending it
 * while the transaction still held its connection could starve the pool under many denials).
 */
export class AccessDenied extends AppError {
  readonly tenantId: number;
  readonly auditEvent: AuditEvent;

  constructor(
    code: DenialCode,
    reason: string,
    tenantId: number,
    auditEvent: AuditEvent,
    details?: ProblemDetails,
  ) {
    super(code, `access denied: ${reason}`, { publicMessage: reason, ...(details ? { details } : {}) });
    this.name = 'AccessDenied';
    this.tenantId = tenantId;
    this.auditEvent = auditEvent;
  }
}

/**
 * The access gate: personal data is read and written under a purpose by an actor with a role,
 * as the tenant's policy allows and the subjects' state permits. Every decision is audited,
 * allowed ones in the caller's transaction, denials after it (see AccessDenied).
 */
export class AccessGate {
  readonly #deps: GateDependencies;

  constructor(deps: GateDependencies) {
    this.#deps = deps;
  }

  /** Authorises one batch (any number of subjects) with a single policy check and query. */
  async authorize(atx: AuditedTx, actor: Actor, request: AccessRequest): Promise<Grant> {
    const { policy } = await this.#deps.policies.current(atx.tenantId);
    stopHead(policy, actor, request, atx.tenantId);
    const subjects = await selectSubjectStates(atx.tx, request.subjectIds, request.purpose);
    const denial = decide(policy, actor, request, subjects, isoDate(this.#deps.clock.now()));
    const event = auditEvent(actor, request, denial);
    if (denial) throw new AccessDenied(denial.code, denial.reason, atx.tenantId, event, denial.details);
    atx.audit.record(event);
    return this.#grant(atx, actor, request);
  }

  /**
   * Several requests about the same subjects (each its own purpose, action and categories), each
   * decided exactly as `authorize` decides it, on ONE read of the subjects' states for all their
   * purposes (decision 0930). When every request is allowed, each gets its grant and its own
   * "allowed" entry, recorded in the requests' order: the entries `authorize` would record called
   * once per request. When any is refused, NOTHING is recorded and undefined is returned: the
   * caller then asks for each on its own as before (its refusals recorded as they always are).
   */
  async authorizeAll(
    atx: AuditedTx,
    actor: Actor,
    requests: readonly AccessRequest[],
  ): Promise<Grant[] | undefined> {
    const first = requests[0];
    if (!first) return [];
    const subjectIds = [...new Set(first.subjectIds)];
    for (const request of requests) {
      const others = new Set(request.subjectIds);
      if (others.size !== subjectIds.length || subjectIds.some((id) => !others.has(id)))
        throw new Error('authorizeAll: every request must name the same subjects');
    }
    const { policy } = await this.#deps.policies.current(atx.tenantId);
    for (const request of requests) stopHead(policy, actor, request, atx.tenantId);
    const states = await selectSubjectStatesForPurposes(
      atx.tx,
      subjectIds,
      requests.map((request) => request.purpose),
    );
    const today = isoDate(this.#deps.clock.now());
    for (const request of requests) {
      if (decide(policy, actor, request, states.get(request.purpose) ?? [], today)) return undefined;
    }
    return requests.map((request) => {
      atx.audit.record(auditEvent(actor, request, undefined));
      return this.#grant(atx, actor, request);
    });
  }

  /**
   * A gated read in one round trip (decision 0370): the subjects' states and `rows` in ONE
   * statement, decided exactly as `authorize` decides. The statement hands the rows back only
   * when every subject passes a condition stricter than the rules (ReadGuard: none erased,
   * restricted, objecting or under age, of a type the purpose and categories reach), so rows of a
   * subject the gate refuses never leave the database; when the condition is too strict for an
   * allowed read (a restricted person under a legal obligation, say), the rows are read after the
   * decision with a statement of their own. Refusals of the purpose, role or categories are made
   * before anything is read. The columns of `rows` may not start with `gate_`.
   */
  async authorizeRead<R>(
    atx: AuditedTx,
    actor: Actor,
    request: AccessRequest & { action: 'read' },
    rows: GatedSelect<R>,
  ): Promise<{ grant: Grant; rows: R[] }> {
    const { policy } = await this.#deps.policies.current(atx.tenantId);
    stopHead(policy, actor, request, atx.tenantId);
    const today = isoDate(this.#deps.clock.now());
    const purpose = findPurpose(policy, request.purpose);
    const early = decideRequest(policy, actor, request);
    if (early) {
      // The same refusal `authorize` gives, and nothing was read.
      const event = auditEvent(actor, request, early);
      throw new AccessDenied(early.code, early.reason, atx.tenantId, event, early.details);
    }
    if (!purpose || request.subjectIds.length === 0) {
      const grant = await this.authorize(atx, actor, request);
      return { grant, rows: await executeSelect(atx, rows) };
    }
    // The "allowed" entry is known before the read and signed now; the statement writes it when
    // the guard holds, i.e. exactly when it sends the rows (decision 0450).
    const entry = await atx.audit.inline(auditEvent(actor, request, undefined));
    const read = await subjectStatesWithRows<R>(
      atx.tx,
      request.subjectIds,
      request.purpose,
      readGuard(policy, purpose, request, today),
      rows,
      entry.sql,
    );
    const denial = decide(policy, actor, request, read.states, today);
    if (denial) {
      // The refusal's entry instead; the transaction rolls back with anything the statement wrote.
      const event = auditEvent(actor, request, denial);
      throw new AccessDenied(denial.code, denial.reason, atx.tenantId, event, denial.details);
    }
    entry.settle(read.outcome, read.rows !== undefined);
    const grant = this.#grant(atx, actor, request);
    return { grant, rows: read.rows ?? (await executeSelect(atx, rows)) };
  }

  /**
   * Decides each subject of the request on its own, exactly as `authorize` would for that subject
   * alone, with one query for all, and records NOTHING: the caller records the refusals it keeps
   * and asks `authorize`/`authorizeRead` once for the allowed subjects (one entry for them). So a
   * list that leaves some people out writes one entry per person, with that person's own reason
   * (attack S7-3, decision 0520).
   */
  async decideEach(
    atx: AuditedTx,
    actor: Actor,
    request: AccessRequest,
  ): Promise<{ allowed: number[]; refusals: Map<number, AccessDenied> }> {
    const { policy } = await this.#deps.policies.current(atx.tenantId);
    stopHead(policy, actor, request, atx.tenantId);
    const today = isoDate(this.#deps.clock.now());
    const unique = [...new Set(request.subjectIds)];
    const states = new Map(
      (await selectSubjectStates(atx.tx, unique, request.purpose)).map((row) => [row.subjectId, row]),
    );
    const allowed: number[] = [];
    const refusals = new Map<number, AccessDenied>();
    for (const subjectId of unique) {
      const single = { ...request, subjectIds: [subjectId] };
      const state = states.get(subjectId);
      const denial = decide(policy, actor, single, state ? [state] : [], today);
      if (!denial) allowed.push(subjectId);
      else {
        const event = auditEvent(actor, single, denial);
        refusals.set(
          subjectId,
          new AccessDenied(denial.code, denial.reason, atx.tenantId, event, denial.details),
        );
      }
    }
    return { allowed, refusals };
  }

  #grant(atx: AuditedTx, actor: Actor, request: AccessRequest): Grant {
    return new Grant(
      GRANT_TOKEN,
      {
        tenantId: atx.tenantId,
        purpose: request.purpose,
        action: request.action,
        actor,
        categories: request.categories,
        subjectIds: request.subjectIds,
      },
      this.#deps.keyring,
    );
  }
}

/**
 * Inside a HEAD (decision 0621): the refusals the policy alone gives (purpose, role, categories)
 * are thrown as a GET would get them, without looking at a subject (the kernel does not record
 * them: a HEAD writes no audit entry); anything else ends the HEAD before a subject is read.
 */
function stopHead(policy: Policy, actor: Actor, request: AccessRequest, tenantId: number): void {
  if (!isHeadersOnly()) return;
  const denial = decideRequest(policy, actor, request);
  if (denial) {
    const event = auditEvent(actor, request, denial);
    throw new AccessDenied(denial.code, denial.reason, tenantId, event, denial.details);
  }
  throw new HeadersOnlyStop('the access gate');
}

async function executeSelect<R>(atx: AuditedTx, rows: GatedSelect<R>): Promise<R[]> {
  const result = await atx.tx.executeQuery<R>('sql' in rows ? rows : rows.compile());
  return result.rows;
}

/**
 * A select whose rows a gated read fetches (see AccessGate.authorizeRead): a Kysely select, or
 * one compiled once for its shape with its values bound (`boundQuery`, decision 0855).
 */
export type GatedSelect<R> = (Compilable<R> & Expression<unknown>) | CompiledQuery<R>;

/**
 * `template`'s text with `parameters` instead of its own: a select whose text is the same for
 * every call of one shape is compiled once, and only its values change per read (decision 0855).
 * The parameters must be as many, and in the same places, as the template's.
 */
export function boundQuery<R>(template: CompiledQuery<R>, parameters: readonly unknown[]): CompiledQuery<R> {
  if (parameters.length !== template.parameters.length)
    throw new Error(
      `boundQuery: ${parameters.length} parameters for a text of ${template.parameters.length}`,
    );
  return { query: template.query, queryId: template.queryId, sql: template.sql, parameters };
}

interface Denial {
  code: DenialCode;
  /** Shown to the caller: never names what the caller may not know (a subject's type). */
  reason: string;
  /** For an unknown purpose: the purposes the actor may act under (the caller can correct itself). */
  details?: ProblemDetails;
  /** Recorded in the audit log instead of the code, when the code alone would hide why. */
  auditReason?: GateAuditReason;
  /**
   * The purpose named is none of the policy's: the audit entry records no purpose (the text came
   * from outside, `__proto__` say, and only policy keys are written there).
   */
  unknownPurpose?: true;
}

/**
 * The one answer for a person who does not exist and for one the purpose does not reach (another
 * subject type): the same code and sentence, so a refusal tells nothing about who is on file.
 */
export const NOT_AVAILABLE = 'not available under this purpose';

function auditEvent(actor: Actor, request: AccessRequest, denial: Denial | undefined): AuditEvent {
  return {
    actor: auditActor(actor),
    role: actor.kind === 'staff' ? actor.role : actor.kind === 'subject' ? 'data_subject' : 'system',
    purpose: denial?.unknownPurpose ? null : request.purpose,
    action: request.action,
    subjectIds: [...request.subjectIds],
    categories: [...request.categories],
    records: request.subjectIds.length,
    decision: denial ? 'denied' : 'allowed',
    ...(denial ? { reason: denial.auditReason ?? denial.code } : {}),
    ...(request.requestId ? { requestId: request.requestId } : {}),
  };
}

export function auditActor(actor: Actor): AuditEvent['actor'] {
  switch (actor.kind) {
    case 'staff':
      return { kind: 'staff', id: String(actor.staffId) };
    case 'subject':
      return { kind: 'subject', id: 'self' };
    case 'system':
      return { kind: 'system', id: actor.job };
  }
}

/** The rules, as a pure function of the policy, the request and the subjects' state. */
export function decide(
  policy: Policy,
  actor: Actor,
  request: AccessRequest,
  subjects: readonly SubjectStateRow[],
  today: string,
): Denial | undefined {
  const requestDenial = decideRequest(policy, actor, request);
  if (requestDenial) return requestDenial;
  // decideRequest refuses a purpose the policy does not have.
  const purpose = findPurpose(policy, request.purpose);
  if (!purpose) throw new Error('decide: purpose vanished');
  if (subjects.length !== new Set(request.subjectIds).size)
    return { code: 'not_found', reason: NOT_AVAILABLE, auditReason: 'no_such_subject' };
  for (const subject of subjects) {
    const denial = checkSubject(policy, purpose, actor, request, subject, today);
    if (denial) return denial;
  }
  return undefined;
}

/**
 * The rules that do not depend on the subjects' state: the purpose, the actor's role, whole-person
 * reach and the categories. A denial here needs no look at the subjects.
 */
export function decideRequest(policy: Policy, actor: Actor, request: AccessRequest): Denial | undefined {
  // The purpose comes from a request header: looked up as an own key, never on the prototype.
  const purpose = findPurpose(policy, request.purpose);
  if (!purpose)
    return {
      code: 'purpose_not_allowed',
      reason: `the policy has no purpose "${request.purpose}"`,
      details: { validPurposes: listPurposeKeysFor(policy, actor) },
      unknownPurpose: true,
    };
  const roleDenial = checkActor(purpose, actor, request);
  if (roleDenial) return roleDenial;
  // A purpose tied to one event (the sale of the business) serves its disclosures only, whoever
  // asks and from where: the HTTP door refuses it on other routes, the gate for jobs and modules.
  if (purpose.disclosureOnly && !(request.disclosure && request.action === 'read'))
    return {
      code: 'purpose_not_allowed',
      reason: `${request.purpose} is used only to disclose data to its recipients, each disclosure logged`,
      auditReason: 'disclosure_only_purpose',
    };
  // Erasure and the access/portability export reach every category of the subject (Art. 15, 17,
  // 20); only a purpose the policy declares for it allows that (wholePerson), whoever acts.
  const wideReach = reachesEveryCategory(request.action);
  if (wideReach && actor.kind !== 'subject' && !isPurposeErasure(purpose, actor, request)) {
    const wholePersonDenial = checkWholePerson(purpose, request);
    if (wholePersonDenial) return wholePersonDenial;
  }
  return wideReach ? undefined : checkCategories(policy, purpose, request);
}

/**
 * A condition on the subjects' states under which `decide` allows a read by any actor whose
 * request passed decideRequest: stricter than the rules (a restricted, objected, under-age or
 * erased subject never passes it, whatever the purpose allows), so a gated select fetches rows
 * only for subjects the gate lets through. Where it is too strict, the rows are read after the
 * decision, as `authorize` does.
 */
export interface ReadGuard {
  subjectTypes: string[];
  /** The purpose's recorded state must be one of these (`null`: none recorded), or any when undefined. */
  purposeStates?: Array<string | null>;
  /** Nobody who objected to direct marketing (marketing purposes). */
  noMarketingObjection: boolean;
  today: string;
}

function readGuard(policy: Policy, purpose: Purpose, request: AccessRequest, today: string): ReadGuard {
  const subjectTypes = purpose.subjectTypes.filter((type) =>
    request.categories.every((key) => findCategory(policy, key)?.subjectTypes.includes(type)),
  );
  const guard: ReadGuard = { subjectTypes, noMarketingObjection: Boolean(purpose.marketing), today };
  if (purpose.legalBasis === 'consent') guard.purposeStates = ['consented'];
  else if (purpose.legalBasis === 'legitimate_interests')
    guard.purposeStates = [null, 'consented', 'pending', 'withdrawn'];
  return guard;
}

/** The purposes an actor may act under: a staff member's by role; any for a system job. */
export function listPurposeKeysFor(policy: Policy, actor: Actor): string[] {
  return Object.entries(policy.purposes)
    .filter(([, purpose]) => actor.kind !== 'staff' || purpose.roles.includes(actor.role))
    .map(([key]) => key)
    .sort();
}

function checkActor(purpose: Purpose, actor: Actor, request: AccessRequest): Denial | undefined {
  switch (actor.kind) {
    case 'staff':
      return purpose.roles.includes(actor.role)
        ? undefined
        : {
            code: 'role_not_allowed',
            reason: `role ${actor.role} may not act under purpose ${request.purpose}`,
          };
    case 'subject':
      // A person acts on their own data only (their rights: access, portability, rectification,
      // and erasure from their own account, VK-23).
      return request.subjectIds.every((id) => id === actor.subjectId)
        ? undefined
        : { code: 'forbidden', reason: 'a data subject may act on their own data only' };
    case 'system':
      return undefined;
  }
}

function checkCategories(policy: Policy, purpose: Purpose, request: AccessRequest): Denial | undefined {
  for (const key of request.categories) {
    if (!purpose.categories.includes(key)) {
      return { code: 'category_not_allowed', reason: `purpose ${request.purpose} does not cover ${key}` };
    }
    const category = findCategory(policy, key);
    if (category?.special && !purpose.consent?.explicit) {
      return {
        code: 'category_not_allowed',
        reason: `${key} is a special category and needs explicit consent`,
      };
    }
  }
  return undefined;
}

function checkSubject(
  policy: Policy,
  purpose: Purpose,
  actor: Actor,
  request: AccessRequest,
  subject: SubjectStateRow,
  today: string,
): Denial | undefined {
  // Erasure is limited to the purpose's subject types like any other action: a staff member is
  // never erased under a purpose for customers (the staff module's own rules, such as the last
  // admin, cannot be gone around). The export alone is left open: a person's own access (Art. 15)
  // covers every type they are, staff included.
  // A subject outside the purpose is answered like one that does not exist (NOT_AVAILABLE).
  if (request.action !== 'export' && !purpose.subjectTypes.includes(subject.subjectType)) {
    return { code: 'not_found', reason: NOT_AVAILABLE, auditReason: 'subject_type_outside_purpose' };
  }
  for (const key of reachesEveryCategory(request.action) ? [] : request.categories) {
    if (!findCategory(policy, key)?.subjectTypes.includes(subject.subjectType)) {
      return { code: 'not_found', reason: NOT_AVAILABLE, auditReason: 'category_not_kept_for_subject_type' };
    }
  }
  if (subject.erasedAt) return { code: 'subject_erased', reason: 'the data subject has been erased' };
  if (
    request.action === 'erase' &&
    purpose.wholePerson === 'minor_erasure' &&
    actor.kind !== 'subject' &&
    !isMinorWithoutParentalConsent(subject, today)
  ) {
    return {
      code: 'purpose_not_allowed',
      reason: `only a person recorded as a minor without parental consent is erased under ${request.purpose}`,
    };
  }
  // Erasure and the person's own access are never blocked by the person's other choices.
  if (reachesEveryCategory(request.action) || actor.kind === 'subject') return undefined;
  if (subject.restrictedAt && request.action !== 'store' && !isRestrictionExempt(purpose, request)) {
    return {
      code: 'subject_restricted',
      reason: 'processing of this data subject is restricted (GDPR Art. 18)',
    };
  }
  if (purpose.marketing && subject.marketingObjectedAt) {
    return { code: 'subject_objected', reason: 'the data subject objected to direct marketing' };
  }
  if (purpose.legalBasis === 'legitimate_interests' && subject.purposeState === 'objected') {
    return { code: 'subject_objected', reason: `the data subject objected to ${request.purpose}` };
  }
  if (isMinorWithoutParentalConsent(subject, today) && !isMinorExempt(purpose, actor, request)) {
    return {
      code: 'consent_missing',
      reason: 'the data subject is a minor and no parental consent is recorded (VK-15)',
      auditReason: 'minor_without_parental_consent',
    };
  }
  // A newsletter sign-up waiting for its double opt-in confirmation (VK-17): the system may keep
  // the address it was given, nothing more, until the person confirms (decision 0130).
  if (
    purpose.legalBasis === 'consent' &&
    subject.purposeState === 'pending' &&
    actor.kind === 'system' &&
    request.action === 'store'
  ) {
    return undefined;
  }
  if (purpose.legalBasis === 'consent' && subject.purposeState !== 'consented') {
    return {
      code: 'consent_missing',
      reason:
        subject.purposeState === 'withdrawn'
          ? `consent for ${request.purpose} was withdrawn`
          : `no consent for ${request.purpose}`,
    };
  }
  return undefined;
}

/**
 * Erasure (Art. 17) and the access/portability export (Art. 15, 20) reach every category the
 * person has, whatever purpose holds it: allowed only under a purpose whose `wholePerson` says so
 * in the policy (rights requests: both; the age check, VK-15: erasure of a minor only).
 */
function checkWholePerson(purpose: Purpose, request: AccessRequest): Denial | undefined {
  const allowed =
    purpose.wholePerson === 'rights' ||
    (purpose.wholePerson === 'minor_erasure' && request.action === 'erase');
  return allowed
    ? undefined
    : {
        code: 'purpose_not_allowed',
        reason: `${request.action} of a whole person is not done under ${request.purpose}`,
      };
}

/**
 * Erasing only what one purpose holds, by a system job applying the policy's retention (VX-7: the
 * technical dossier on termination), is not a whole-person erasure: allowed under that purpose
 * for its own categories only. Staff erase only through a rights purpose.
 */
function isPurposeErasure(purpose: Purpose, actor: Actor, request: AccessRequest): boolean {
  return (
    actor.kind === 'system' &&
    request.action === 'erase' &&
    purpose.wholePerson === 'none' &&
    request.categories.length > 0 &&
    request.categories.every((category) => purpose.categories.includes(category))
  );
}

function reachesEveryCategory(action: AccessAction): boolean {
  return action === 'erase' || action === 'export';
}

function isMinorWithoutParentalConsent(subject: SubjectStateRow, today: string): boolean {
  return subject.minorUntil !== null && subject.minorUntil > today && subject.parentalConsentAt === null;
}

/**
 * VK-15: nothing is done with the data of a minor without a parent's consent, under any purpose,
 * except (besides erasure and the person's own access, allowed above) the purposes that exist for
 * it — the age check and the rights requests (`wholePerson`: recording the birth date or the
 * parent's consent, a parent's request) — and reading or keeping what a legal obligation
 * requires (the books, an authority's order, a breach letter); no new data under those
 * (attack S18-15, decision 0884). A job may also keep (`store`, nothing more) what a service under
 * contract recorded on its own, such as the calls on a number the person held before they were
 * recorded as a minor: used for nothing until a parent consents or the person is erased
 * (decision 0904); only that keeping, marked by its one caller (decision 0952).
 */
function isMinorExempt(purpose: Purpose, actor: Actor, request: AccessRequest): boolean {
  const { action } = request;
  if (purpose.wholePerson !== 'none') return true;
  // Only the keeping of what the switch recorded, not any store a job asks (decision 0952).
  if (
    action === 'store' &&
    actor.kind === 'system' &&
    purpose.legalBasis === 'contract' &&
    request.keepsRecorded === true
  )
    return true;
  return purpose.legalBasis === 'legal_obligation' && (action === 'read' || action === 'store');
}

function isoDate(at: Date): string {
  return at.toISOString().slice(0, 10);
}

/**
 * Art. 18(2): a restricted subject's data may, besides being stored, be used only for legal
 * claims, another person's rights or an important public interest. The purposes the policy marks
 * for that (`readWhileRestricted`: the books, an authority's order, a breach letter) and the rights
 * requests may still read it; only the rights requests may change it (the rectification a
 * restriction waits for, Art. 18(1)(a)). Everything else is refused: a change under any other
 * purpose (attack S18-14, decision 0875), a read under any other legal obligation, such as the
 * age check (decision 0885). The statement and the portal name these same purposes (decision 0902).
 * A marked purpose may also write a legal claim the use case declares as such (decision 0950).
 */
function isRestrictionExempt(purpose: Purpose, request: AccessRequest): boolean {
  const rights = purpose.wholePerson === 'rights' && purpose.legalBasis === 'legal_obligation';
  if (request.action === 'read') return rights || purpose.readWhileRestricted;
  // A dispute on an invoice is a legal claim: recorded (and settled) under a marked purpose, it
  // adds a record that keeps the invoice; it changes none of the person's data (decision 0950).
  if (request.action === 'write' && request.legalClaim === true && purpose.readWhileRestricted) return true;
  return rights;
}

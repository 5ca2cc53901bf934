import type { AuditedTx } from '../audit/index.js';
import type { Policy } from '../policy/policy.schema.js';
import { AppError } from '../../platform/errors.js';
import { AccessDenied, type AccessAction, type AccessGate, type Actor, type Grant } from './gate.js';

/**
 * The helpers every module uses to ask the gate (once: billing and contracts each had a copy).
 * They take only the gate, not the kernel, so a module needs nothing more to authorise.
 */

/** Who acts, for what, from which request: plain data, never an HTTP request. */
export interface AccessContext {
  tenantId: number;
  actor: Actor;
  purpose: string;
  requestId?: string;
  /** The disclosure door's own requests (see AccessRequest.disclosure); nobody else sets it. */
  disclosure?: true;
  /** A legal claim being recorded (see AccessRequest.legalClaim); set by the dispute use cases alone. */
  legalClaim?: true;
}

/** Anything that carries the gate (the module surface, or the kernel itself). */
export interface WithGate {
  gate: AccessGate;
}

/** The categories of `wanted` that the purpose covers (need to know on reads). */
export function coveredBy(policy: Policy, purpose: string, wanted: readonly string[]): string[] {
  const covered = new Set(policy.purposes[purpose]?.categories ?? []);
  return wanted.filter((category) => covered.has(category));
}

export function requestIdOf(context: { requestId?: string | undefined }): { requestId?: string } {
  return context.requestId ? { requestId: context.requestId } : {};
}

function disclosureOf(context: AccessContext): { disclosure?: true; legalClaim?: true } {
  return {
    ...(context.disclosure ? { disclosure: true } : {}),
    ...(context.legalClaim ? { legalClaim: true } : {}),
  };
}

/**
 * A kind of work is done only under the purposes the policy declares for it (Art. 5(1)(b)): another
 * purpose that merely covers the categories does not do it. Refused with `purpose_not_allowed`
 * naming the valid purposes; the gate then decides the role by the purpose's roles. One helper for
 * every module (contracts and billing each had a copy).
 */
export function assertPurposeAmong(
  purpose: string,
  valid: readonly string[],
  what: { work: string; publicWork: string; validSuffix?: string },
): void {
  if (valid.includes(purpose)) return;
  const named = valid.length > 0 ? valid.join(' or ') : 'a purpose the policy declares for them';
  throw new AppError('purpose_not_allowed', `${what.work} under ${purpose}`, {
    publicMessage: `${what.publicWork} only under ${named}${what.validSuffix ?? ''}`,
    details: { validPurposes: [...valid] },
  });
}

/** One gate decision under the context's purpose for the subjects (duplicates removed). */
export async function authorize(
  kernel: WithGate,
  atx: AuditedTx,
  context: AccessContext,
  action: AccessAction,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<Grant> {
  return kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action,
    categories,
    subjectIds: [...new Set(subjectIds)],
    ...requestIdOf(context),
    ...disclosureOf(context),
  });
}

/** Refusals that concern some subjects of a batch rather than the actor, role or purpose. */
const SUBJECT_DENIALS: ReadonlySet<string> = new Set([
  'subject_restricted',
  'subject_objected',
  'consent_missing',
  'subject_erased',
  'not_found',
  'purpose_not_allowed',
  'category_not_allowed',
]);

/**
 * One gate decision for a batch; when it is refused because of some subjects, each is decided on
 * its own and only those are left out, so one restricted customer does not hide everyone else's
 * rows. Each subject then gets one entry (attack S7-3, decision 0520): the refused batch is not
 * recorded (it would put one subject's reason in every subject's trail), the subjects allowed get
 * one "allowed" entry together, and each refused subject its own refusal (recorded with this
 * transaction, which commits). Role and purpose refusals still refuse the whole batch. The grant
 * covers exactly the subjects allowed; `denials` holds each refused subject's own refusal, for a
 * caller that answers about one of them.
 */
export async function authorizeBatch(
  kernel: WithGate,
  atx: AuditedTx,
  context: AccessContext,
  action: AccessAction,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<{ grant: Grant; refused: number[]; denials: Map<number, AccessDenied> }> {
  const unique = [...new Set(subjectIds)];
  try {
    return {
      grant: await authorize(kernel, atx, context, action, categories, unique),
      refused: [],
      denials: new Map(),
    };
  } catch (error) {
    if (!(error instanceof AccessDenied) || unique.length === 0 || !SUBJECT_DENIALS.has(error.code))
      throw error;
  }
  // The batch decision named no subject-independent reason (this throws if there is one); then
  // each subject is decided alone, nothing recorded until the one entry per subject below.
  await authorize(kernel, atx, context, action, categories, []);
  const { allowed, refusals } = await kernel.gate.decideEach(atx, context.actor, {
    purpose: context.purpose,
    action,
    categories,
    subjectIds: unique,
    ...requestIdOf(context),
    ...disclosureOf(context),
  });
  for (const refusal of refusals.values()) atx.audit.record(refusal.auditEvent);
  return {
    grant: await authorize(kernel, atx, context, action, categories, allowed),
    refused: [...refusals.keys()],
    denials: refusals,
  };
}

/** One of the decisions `authorizeBatches` makes about a batch: its context, action and categories. */
export interface BatchRequest {
  context: AccessContext;
  action: AccessAction;
  categories: readonly string[];
}

/**
 * `authorizeBatch` for several decisions about one batch (an invoice run's customers' data under
 * its purpose and their calls under the calls purpose, decision 0881), made on ONE read of the
 * subjects' states when every decision allows the whole batch (decision 0930), with the entries
 * and grants the separate calls give. Should any refuse anyone, each is decided by
 * `authorizeBatch`, in order, as before: the same refusals, entries and grants. One actor for all.
 */
export async function authorizeBatches(
  kernel: WithGate,
  atx: AuditedTx,
  requests: readonly BatchRequest[],
  subjectIds: readonly number[],
): Promise<Array<{ grant: Grant; refused: number[]; denials: Map<number, AccessDenied> }>> {
  const first = requests[0];
  if (!first) return [];
  if (requests.some((request) => request.context.actor !== first.context.actor))
    throw new Error('authorizeBatches: one actor for all the decisions');
  const unique = [...new Set(subjectIds)];
  const grants = await kernel.gate.authorizeAll(
    atx,
    first.context.actor,
    requests.map(({ context, action, categories }) => ({
      purpose: context.purpose,
      action,
      categories,
      subjectIds: unique,
      ...requestIdOf(context),
      ...disclosureOf(context),
    })),
  );
  if (grants) return grants.map((grant) => ({ grant, refused: [], denials: new Map() }));
  const decided = [];
  for (const { context, action, categories } of requests) {
    decided.push(await authorizeBatch(kernel, atx, context, action, categories, unique));
  }
  return decided;
}

/** Where an encrypted field lives (bound into its ciphertext): modules name their fields with it. */
export type { FieldRef } from '../keyring/keyring.js';

/**
 * The pre-authentication doors: before anyone is known, a login reads the credentials of the
 * account that the typed e-mail address names, to compare what was typed. Nobody is acting yet,
 * so the door itself is the actor (a system actor named after it); the read still asks the gate
 * (the account's subject type, state and the purpose) and is audited like any other. These are
 * the only reads made before the caller is known; each has its reason here.
 */
export const SIGN_IN_DOORS = {
  'staff-auth':
    'staff login: the password hash and state of the named account, and its second factor (TOTP secret, recovery codes) while a login waits for it',
  'rights-portal': 'privacy portal login: the password hash of the person the typed address names',
} as const;
export type SignInDoor = keyof typeof SIGN_IN_DOORS;

/** The credential category every sign-in door reads (declared by both seed policies). */
export const CREDENTIALS_CATEGORY = 'user.authorization.credentials';

/**
 * A grant for one sign-in door to read (or, for a used recovery code or a claimed TOTP step,
 * write) the credentials of one account's subject under `purpose`; nothing else.
 */
export async function authorizeSignIn(
  kernel: WithGate,
  atx: AuditedTx,
  door: SignInDoor,
  request: { purpose: string; action: 'read' | 'write'; subjectId: number },
): Promise<Grant> {
  return kernel.gate.authorize(
    atx,
    { kind: 'system', job: door },
    {
      purpose: request.purpose,
      action: request.action,
      categories: [CREDENTIALS_CATEGORY],
      subjectIds: [request.subjectId],
    },
  );
}

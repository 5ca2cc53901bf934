import { createHash, randomBytes, randomInt, randomUUID, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';
import { describeAccessReport, streamPortabilityZip } from '../../kernel/access-report/index.js';
import type { TableDataMap } from '../../kernel/datamap/datamap.js';
import {
  eraseSubject,
  erasureHoldsOn,
  isErasureHeld,
  type ErasureHold,
  type ErasureOutcome,
} from '../../kernel/erasure/index.js';
import { deliverLetters, messageDomainOf, sealLetter } from '../../kernel/letters/index.js';
import { auditActor, type Actor, type Grant } from '../../kernel/gate/gate.js';
import type { AuditedTx } from '../../kernel/audit/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Language, Policy } from '../../kernel/policy/policy.schema.js';
import { setRestriction, touchSubjects } from '../../kernel/subjects/index.js';
import type { Tx } from '../../platform/db.js';
import { decodeCursor, encodeCursor } from '../../platform/cursor.js';
import { AppError, describeUnexpected, isAppError, validationError } from '../../platform/errors.js';
import { describeIssues, parseInput } from '../../platform/validation.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { requestsDataMap } from './datamap.js';
import type { Logger } from '../../platform/logger.js';
import type { Mailer } from '../../platform/mailer.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import {
  findPeopleByContact,
  getPerson,
  checkRectification,
  rectificationSchema,
  rectifyPersonWithin,
  type Rectification,
} from '../parties/index.js';
import type { Tenant } from '../tenants/index.js';
import { appendConsentWithin, findSignupContacts, type StopEffects } from '../consent/index.js';
import { brusselsDate, computeDueDate, latestExtension } from './deadlines.js';
import { STATEMENT_TEXTS } from '../../kernel/policy/statement.texts.js';
import {
  nothingStoppedReason,
  whyNotStopped,
  writeLetter,
  writePostalHeading,
  type LetterFacts,
  type NotStoppedReason,
  type PostalRecipient,
} from './letters.js';
import {
  checkTransferUrl,
  NON_PUBLIC_DESTINATION,
  pushPortabilityZip,
  type TransferResult,
  type TransferSettings,
  type TransferTarget,
} from './transfer.js';
import { sql, type RawBuilder, type Selectable, type Updateable } from 'kysely';
import type { ExportPace } from './export-download.js';
import { countFormPost, DEFAULT_PUBLIC_LIMITS, type AnswerQuanta, type PublicDoorLimits } from './limits.js';
import type { RequestChannel, RequestKind, RequestState, RightsRequestsTable } from './requests.tables.js';

type RequestRow = Selectable<RightsRequestsTable>;

const CORRESPONDENCE = 'kluis.communication.correspondence';
/** A request not yet answered: it may still be extended, rejected or carried out. */
const OPEN_STATES: readonly RequestState[] = ['awaiting_verification', 'verified'];

/**
 * Every change of a request's state is one audited transaction (`request.<change>`) that first
 * takes the request's row and checks its state under that lock (`lockRequest`), so two calls at
 * the same moment change it once: the second waits, finds it changed and is refused (decision
 * 0893). Values that are correspondence about the person (reasons staff type) are written under a
 * gate grant for that category; the letter that reports the change is sealed in the same
 * transaction, so a refused call sends none.
 */
async function changeRequest(
  deps: RequestsDeps,
  tenantId: number,
  actor: Actor,
  request: Pick<RequestRow, 'request_id' | 'subject_id'>,
  change: 'verify' | 'extend' | 'reject',
  transition: { from: readonly RequestState[]; check?: (row: RequestRow) => void },
  values: Updateable<RightsRequestsTable>,
  options: { correspondence?: boolean; letter?: QueuedLetter; posted?: true } = {},
): Promise<void> {
  await deps.kernel.transact(tenantId, async (atx) => {
    const row = await lockRequest(atx.tx, request.request_id, transition.from);
    transition.check?.(row);
    if (options.correspondence) {
      const grant = await deps.kernel.gate.authorize(atx, actor, {
        purpose: RIGHTS_PURPOSE,
        action: 'write',
        categories: [CORRESPONDENCE],
        subjectIds: request.subject_id === null ? [] : [request.subject_id],
      });
      grant.assertWritable();
    }
    await atx.tx
      .updateTable('rights_requests')
      .set(values)
      .where('request_id', '=', request.request_id)
      .execute();
    recordRequestChange(atx, actor, request, change, options.posted ? LETTER_POSTED : undefined);
    const letter = options.letter;
    if (letter)
      await queueLetter(deps, atx.tx, tenantId, letter.policy, letter.to, letter.letter, letter.outcome);
  });
  if (options.letter) dispatchLetters(deps, tenantId);
}

/** A letter to seal with a change of the request (written before the transaction). */
interface QueuedLetter {
  policy: Policy;
  to: string;
  letter: { subject: string; text: string };
  outcome: LetterFacts['outcome'];
}

/**
 * Takes the request's row lock and refuses to go on unless the request is still in one of the
 * states `from`: the one place every change of a request's state starts (decision 0893). A call
 * that comes second, at the same moment or later, waits here and is answered 409.
 */
async function lockRequest(tx: Tx, requestId: string, from: readonly RequestState[]): Promise<RequestRow> {
  const row = await tx
    .selectFrom('rights_requests')
    .selectAll()
    .where('request_id', '=', requestId)
    .forUpdate()
    .executeTakeFirst();
  if (!row) throw new AppError('not_found', 'no such request', { publicMessage: 'no such request' });
  if (!from.includes(row.state))
    throw new AppError('conflict', `request is ${row.state}`, {
      publicMessage: `the request is ${row.state.replaceAll('_', ' ')}`,
      details: { reason: 'state_changed', state: row.state },
    });
  return row;
}

function recordRequestChange(
  atx: AuditedTx,
  actor: Actor,
  request: Pick<RequestRow, 'subject_id'>,
  change: 'verify' | 'extend' | 'reject' | 'fulfil' | 'defer',
  reason?: string,
): void {
  atx.audit.record({
    actor: auditActor(actor),
    role: actor.kind === 'staff' ? actor.role : null,
    purpose: RIGHTS_PURPOSE,
    action: `request.${change}`,
    ...(request.subject_id === null ? {} : { subjectIds: [request.subject_id] }),
    decision: 'allowed',
    ...(reason === undefined ? {} : { reason }),
  });
}

/** Free text staff type about a request is scanned like notes (VK-16), by the data map. */
const assertRequestText = (values: Parameters<typeof assertFreeTextAllowed>[1]): void =>
  assertFreeTextAllowed(tableMap(requestsDataMap, 'rights_requests'), values);

export interface RequestsDeps {
  kernel: Kernel;
  mailer: Mailer;
  dataMap: readonly TableDataMap[];
  /** Base URL for links in mail, e.g. https://privacy.voiceking.be */
  publicUrl: string;
  logger: Logger;
  /** Portability pushed to another organisation (Art. 20(2)); without it no host is allow-listed. */
  transfer?: TransferSettings;
  /** Limits of the public doors; the defaults unless a test or deployment sets others. */
  limits?: PublicDoorLimits;
  /** How long the form, link and login doors hold their answers (0 = not at all; tests of other things). */
  answerQuanta?: AnswerQuanta;
  /** Asks the job queue to send the letter outbox now (the server); else this process sends it. */
  wakeLetterSender?: () => Promise<void>;
  /** How many exports may hold a connection at once, and when a stalled one ends (decision 0531). */
  exportPace?: ExportPace;
  /**
   * Runs after a portal login opened a session, with the cookies the request carried (the cookies
   * module links the browser's cookie consent id to the person; docs/decisions/0290).
   */
  onPortalSignIn?: (signIn: PortalSignIn) => Promise<unknown>;
}

/** A portal login as the sign-in hook sees it. */
export interface PortalSignIn {
  tenantId: number;
  subjectId: number;
  cookies: Readonly<Record<string, string | undefined>>;
}

/** The cookies of a login request, handed to the sign-in hook. */
export type RequestCookies = Readonly<Record<string, string | undefined>>;

/**
 * The browser a portal login comes from: its cookies, and whether the login request came from a page
 * of another site (`Sec-Fetch-Site: cross-site`). A cross-site login joins nothing to the person
 * (attack finding A12, decision 0412): it may be a login forced on someone else's browser.
 */
export interface SignInBrowser {
  cookies: RequestCookies;
  crossSite: boolean;
}

/** A login with no browser behind it (the CLI, tests): no cookies, nothing to join. */
export const NO_BROWSER: SignInBrowser = { cookies: {}, crossSite: false };

/** The purpose under which rights requests are handled; both seed policies declare it. */
export const RIGHTS_PURPOSE = 'rights_requests';
const PORTAL: Actor = { kind: 'system', job: 'rights-portal' };
/** Who writes a fulfilled objection or withdrawal into the consent ledger (the request was decided). */
const LEDGER_ACTOR: Actor = { kind: 'system', job: 'rights-request' };
const SELF = (subjectId: number): Actor => ({ kind: 'subject', subjectId });
const CODE_TTL_MS = 15 * 60 * 1000;
const MAX_CODE_ATTEMPTS = 5;
const DOWNLOAD_TTL_MS = 7 * 24 * 60 * 60 * 1000;

export const REQUEST_KINDS = [
  'access',
  'portability',
  'rectification',
  'erasure',
  'restriction',
  'objection',
  'withdraw_consent',
  'object_direct_marketing',
] as const satisfies readonly RequestKind[];

const sha256 = (value: string): Buffer => createHash('sha256').update(value).digest();

export const publicRequestSchema = z.object({
  kind: z.enum(REQUEST_KINDS),
  email: z.string().trim().toLowerCase().email('expected an e-mail address').max(320),
  language: z.enum(['nl', 'fr', 'en']).optional(),
  purposes: z
    .array(z.string().regex(/^[a-z][a-z0-9_]*$/))
    .max(30)
    .default([]),
  /** Portability only: the other organisation's HTTPS endpoint to push the package to (Art. 20(2)). */
  transferTo: z.string().max(2048).optional(),
  /** Rectification only: the corrected values (checked like staff corrections), applied once verified. */
  corrections: z.record(z.string(), z.unknown()).optional(),
});

export type PublicRequestInput = z.input<typeof publicRequestSchema>;

export interface RequestReceipt {
  requestId: string;
  /** Shown once to the requester: lets them follow the status without logging in. */
  statusToken: string;
  dueOn: string;
}

function invalid(message: string): AppError {
  return new AppError('validation_failed', message, { publicMessage: message });
}

function assertOffered(policy: Policy, kind: RequestKind): void {
  if (!(policy.rights.offered as readonly string[]).includes(kind))
    throw invalid(`kind: this provider's policy does not offer "${kind}"`);
}

/** Purpose keys the provider's policy does not have are refused at intake, named (decision 0411). */
function assertKnownPurposes(policy: Policy, purposes: readonly string[] | undefined): void {
  const unknown = [...new Set(purposes ?? [])].filter((key) => !Object.hasOwn(policy.purposes, key));
  if (unknown.length > 0)
    throw invalid(`purposes: this provider has no purpose ${unknown.map((key) => `"${key}"`).join(', ')}`);
}

/** Checks a transfer URL at intake, so a bad one is refused before anything is stored or sent. */
async function checkTransferInput(
  deps: RequestsDeps,
  kind: RequestKind,
  transferTo: string | undefined,
): Promise<TransferTarget | undefined> {
  if (transferTo === undefined) return undefined;
  if (kind !== 'portability') throw invalid('transferTo: only a portability request can be transferred');
  return checkTransferUrl(transferTo, deps.transfer ?? {});
}

/**
 * What a public request carries until its code is entered, in memory only and for as long as the
 * code lives: a transfer URL or corrected values are personal data and are never written to the
 * database before the person is verified (decisions 0052, 0161). After a restart they are gone:
 * a portability request then falls back to the download link, a rectification waits for staff.
 */
interface PendingInput {
  transferTo?: string;
  corrections?: Rectification;
  expiresAt: number;
}
const pendingInputs = new Map<string, PendingInput>();
const MAX_PENDING_INPUTS = 10_000;

function rememberInput(requestId: string, input: Omit<PendingInput, 'expiresAt'>, now: number): void {
  for (const [key, entry] of pendingInputs) if (entry.expiresAt <= now) pendingInputs.delete(key);
  // A flood of requests must not grow memory without bound; the oldest falls back as above.
  if (pendingInputs.size >= MAX_PENDING_INPUTS) {
    const oldest = pendingInputs.keys().next();
    if (!oldest.done) pendingInputs.delete(oldest.value);
  }
  pendingInputs.set(requestId, { ...input, expiresAt: now + CODE_TTL_MS });
}

function takeInput(requestId: string, now: number): Omit<PendingInput, 'expiresAt'> {
  const entry = pendingInputs.get(requestId);
  pendingInputs.delete(requestId);
  return entry && entry.expiresAt > now ? entry : {};
}

/** Corrections typed on the public form: only with a rectification, checked before anything is stored. */
function checkCorrectionsInput(kind: RequestKind, corrections: unknown): Rectification | undefined {
  if (corrections === undefined) return undefined;
  if (kind !== 'rectification') throw invalid('corrections: only a rectification request takes corrections');
  const parsed = rectificationSchema.safeParse(corrections);
  if (!parsed.success) {
    const message = `corrections: ${describeIssues(parsed.error)}`;
    // The fields at fault, so a page can name them in the person's language.
    throw new AppError('validation_failed', message, {
      publicMessage: message,
      details: {
        issues: parsed.error.issues.map((issue) => ({
          path: ['corrections', ...issue.path.map(String)].join('/'),
          message: issue.message,
        })),
      },
    });
  }
  checkRectification(parsed.data);
  return parsed.data;
}

/**
 * The public form (VK-26). The answer is the same whether or not the e-mail belongs to someone:
 * a code goes only to the e-mail address already on file, and what was typed is not stored.
 */
export async function submitPublicRequest(
  deps: RequestsDeps,
  tenantSlug: string,
  input: PublicRequestInput,
  from?: { address: string },
): Promise<RequestReceipt> {
  const request = parseInput(publicRequestSchema, input);
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const { policy } = await deps.kernel.policies.current(tenant.tenantId);
  assertOffered(policy, request.kind);
  assertKnownPurposes(policy, request.purposes);
  // Checked for everyone before matching, so the answer does not depend on who the person is.
  await checkTransferInput(deps, request.kind, request.transferTo);
  const corrections = checkCorrectionsInput(request.kind, request.corrections);
  // Counted per client network, typed address and tenant once the input is valid (issue 11,
  // decision 0460); past the typed address's day of code mails the request is filed, no code sent.
  const { mayMail } = from
    ? await countFormPost(deps.kernel, deps.limits ?? DEFAULT_PUBLIC_LIMITS, tenant.tenantId, {
        address: from.address,
        email: request.email,
      })
    : { mayMail: true };
  const language = request.language ?? policy.statement.languages[0] ?? 'nl';
  const context = { tenantId: tenant.tenantId, actor: PORTAL, purpose: RIGHTS_PURPOSE };
  const people = await findPeopleByContact(deps.kernel, context, { email: request.email });
  // A subscriber of the public form has only their sign-up's address (decision 0991); a person
  // on record with the address comes first.
  const matches: Array<{ subjectId: number; email?: string | null | undefined }> =
    people.length > 0 ? people : await findSignupContacts(deps.kernel, context, request.email);
  // Two people sharing an address (a family mailbox) is no proof of who asks: staff verify those.
  const match = matches.length === 1 ? matches[0] : undefined;
  const code = String(randomInt(0, 1_000_000)).padStart(6, '0');
  const receipt = await insertRequest(
    deps,
    tenant,
    {
      actor: PORTAL,
      kind: request.kind,
      channel: 'portal',
      subjectId: match?.subjectId ?? null,
      language,
      purposes: request.purposes,
      verified: undefined,
      scanReference: null,
    },
    async (tx, written) => {
      await tx
        .insertInto('verification_codes')
        .values({
          tenant_id: tenant.tenantId,
          request_id: written.requestId,
          // Unmatched requests get a code too, which is never sent: every later answer looks the same.
          code_hash: sha256(`${written.requestId}:${code}`),
          expires_at: new Date(deps.kernel.clock.now().getTime() + CODE_TTL_MS),
        })
        .execute();
      // The code letter is written and sealed for a known and an unknown address alike (issue 11):
      // the same work on the request path; the letter sender drops the one without a recipient.
      const letter = writeLetter(policy, language, {
        kind: request.kind,
        outcome: 'verification_code',
        code,
        // The page the code is entered on; the status token lets it show the request's status after.
        link: `${deps.publicUrl}/t/${tenant.slug}/rights/requests/${written.requestId}?token=${written.statusToken}`,
        receivedOn: written.receivedOn,
        dueOn: written.dueOn,
      });
      const to = mayMail ? (match?.email ?? null) : null;
      await queueLetter(deps, tx, tenant.tenantId, policy, to, letter, 'verification_code');
    },
  );
  dispatchLetters(deps, tenant.tenantId);
  if (match && (request.transferTo !== undefined || corrections !== undefined))
    rememberInput(
      receipt.requestId,
      {
        ...(request.transferTo === undefined ? {} : { transferTo: request.transferTo }),
        ...(corrections === undefined ? {} : { corrections }),
      },
      deps.kernel.clock.now().getTime(),
    );
  return { requestId: receipt.requestId, statusToken: receipt.statusToken, dueOn: receipt.dueOn };
}

/**
 * A letter to the person goes through the kernel's outbox (decision 0190): sealed in the
 * transaction of what it reports, sent by the letter sender after commit.
 */
export async function queueLetter(
  deps: RequestsDeps,
  tx: Tx,
  tenantId: number,
  policy: Policy,
  to: string | null,
  letter: { subject: string; text: string },
  outcome: LetterFacts['outcome'],
): Promise<void> {
  await sealLetter(
    deps.kernel,
    tx,
    {
      to,
      subject: letter.subject,
      text: letter.text,
      fromName: `${policy.controller.legalName} ${policy.controller.legalForm}`,
    },
    {
      tenantId,
      purpose: RIGHTS_PURPOSE,
      kind: `request.${outcome}`,
      messageDomain: messageDomainOf(deps.publicUrl),
    },
  );
}

/**
 * After commit: the server's job queue sends the outbox (the same call whoever the letter is for);
 * without a queue (tests, before the queue runs) this process sends it, after the current answer.
 * Either way a crash before sending leaves the letter for the letter-sender job.
 */
export function dispatchLetters(deps: RequestsDeps, tenantId: number): void {
  const inProcess = (): void => {
    setImmediate(() => {
      deliverLetters(deps.kernel, deps.mailer, [tenantId], deps.logger).catch((error: unknown) =>
        deps.logger.error({ err: describeUnexpected(error) }, 'letter delivery failed; the job retries'),
      );
    });
  };
  if (!deps.wakeLetterSender) return inProcess();
  deps.wakeLetterSender().catch(inProcess);
}

interface NewRequest {
  /** Who files it: the portal (a system job), the person from their account, or staff. */
  actor: Actor;
  kind: RequestKind;
  channel: RequestChannel;
  subjectId: number | null;
  language: Language;
  purposes: string[];
  verified: { method: string } | undefined;
  scanReference: string | null;
  /**
   * Join an erasure of the same person filed from the account moments ago instead of filing a
   * second one (a double submit, attack A7): decided under a lock on the person's row.
   */
  joinRecentErasure?: boolean;
}

/** How long a second erasure from the account joins the first (a double click, a retry). */
const ERASURE_JOIN_MS = 60 * 60 * 1000;

async function insertRequest(
  deps: RequestsDeps,
  tenant: Tenant,
  request: NewRequest,
  /** What commits with the request (its code and code letter). */
  withRequest?: (tx: Tx, receipt: RequestReceipt & { receivedOn: string }) => Promise<void>,
): Promise<RequestReceipt & { receivedOn: string; joined?: boolean }> {
  const { policy } = await deps.kernel.policies.current(tenant.tenantId);
  const now = deps.kernel.clock.now();
  const receivedOn = brusselsDate(now);
  const dueOn = computeDueDate(receivedOn, policy.rights.answerDeadlineDays);
  const requestId = randomUUID();
  const statusToken = randomBytes(24).toString('base64url');
  const joined = await deps.kernel.transact(tenant.tenantId, async (atx) => {
    if (request.joinRecentErasure && request.subjectId !== null) {
      // One at a time per person: the second waits here, then finds the first.
      await atx.tx
        .selectFrom('data_subjects')
        .select('subject_id')
        .where('subject_id', '=', request.subjectId)
        .forUpdate()
        .execute();
      const recent = await atx.tx
        .selectFrom('rights_requests')
        .select('request_id')
        .where('subject_id', '=', request.subjectId)
        .where('kind', '=', 'erasure')
        .where('channel', '=', 'account')
        .where('state', 'in', ['verified', 'fulfilled'])
        .where('received_at', '>', new Date(now.getTime() - ERASURE_JOIN_MS))
        .orderBy('received_at')
        .executeTakeFirst();
      if (recent) return recent.request_id;
    }
    // The scan reference is correspondence about the person: written under a grant for it.
    const grant =
      request.scanReference === null
        ? undefined
        : await deps.kernel.gate.authorize(atx, request.actor, {
            purpose: RIGHTS_PURPOSE,
            action: 'write',
            categories: [CORRESPONDENCE],
            subjectIds: request.subjectId === null ? [] : [request.subjectId],
          });
    await atx.tx
      .insertInto('rights_requests')
      .values({
        tenant_id: tenant.tenantId,
        request_id: requestId,
        status_token_hash: sha256(statusToken),
        kind: request.kind,
        channel: request.channel,
        subject_id: request.subjectId,
        state: request.verified ? 'verified' : 'awaiting_verification',
        language: request.language,
        received_at: now,
        due_on: dueOn,
        verified_at: request.verified ? now : null,
        verification_method: request.verified?.method ?? null,
        purposes: request.purposes,
      })
      .execute();
    if (grant && request.scanReference !== null)
      await writeScanReference(
        atx.tx,
        grant,
        { requestId, subjectId: request.subjectId },
        request.scanReference,
      );
    // A message from the person moves their inactivity clock (decision 0095); the request file
    // keeps its own clock (the request's day), so the collection clock stays (decision 0916).
    if (request.subjectId) await touchSubjects(atx, [request.subjectId], now, 'contact');
    atx.audit.record({
      actor:
        request.actor.kind === 'system'
          ? { kind: 'system', id: `request.${request.channel}` }
          : auditActor(request.actor),
      role: request.actor.kind === 'staff' ? request.actor.role : null,
      purpose: RIGHTS_PURPOSE,
      action: `request.${request.kind}`,
      ...(request.subjectId ? { subjectIds: [request.subjectId] } : {}),
      decision: 'allowed',
      reason: request.subjectId ? 'matched' : 'unmatched',
    });
    await withRequest?.(atx.tx, { requestId, statusToken, dueOn, receivedOn });
    return undefined;
  });
  if (joined !== undefined) return { requestId: joined, statusToken: '', dueOn, receivedOn, joined: true };
  return { requestId, statusToken, dueOn, receivedOn };
}

/**
 * Checks a code. Wrong, expired, used-up or never-sent codes all get the same answer; after five
 * attempts the request can no longer be verified by code. A correct code verifies the request and
 * starts its fulfilment.
 */
export async function verifyPublicRequest(
  deps: RequestsDeps,
  tenantSlug: string,
  requestId: string,
  code: string,
): Promise<{ state: RequestState }> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const now = deps.kernel.clock.now();
  const refused = (): AppError =>
    new AppError('validation_failed', 'verification failed', {
      publicMessage: 'the code is wrong or no longer valid',
    });
  const verified = await deps.kernel
    .transact(tenant.tenantId, async (atx) => {
      const tx = atx.tx;
      const row = await tx
        .selectFrom('verification_codes')
        .select(['code_hash', 'expires_at', 'attempts', 'used_at'])
        .where('request_id', '=', requestId)
        .forUpdate()
        .executeTakeFirst();
      if (!row || row.used_at !== null || row.attempts >= MAX_CODE_ATTEMPTS || row.expires_at <= now)
        return false;
      const ok = /^\d{6}$/.test(code) && timingSafeEqual(row.code_hash, sha256(`${requestId}:${code}`));
      if (!ok) {
        await tx
          .updateTable('verification_codes')
          .set({ attempts: row.attempts + 1 })
          .where('request_id', '=', requestId)
          .execute();
        return false;
      }
      const request = await tx
        .selectFrom('rights_requests')
        .select(['subject_id'])
        .where('request_id', '=', requestId)
        .executeTakeFirstOrThrow();
      if (request.subject_id === null) return false;
      await tx
        .updateTable('verification_codes')
        .set({ used_at: now })
        .where('request_id', '=', requestId)
        .execute();
      await tx
        .updateTable('rights_requests')
        .set({ state: 'verified', verified_at: now, verification_method: 'code_to_contact_on_file' })
        .where('request_id', '=', requestId)
        .where('state', '=', 'awaiting_verification')
        .execute();
      recordRequestChange(atx, PORTAL, request, 'verify');
      return true;
    })
    .catch((error: unknown) => {
      if (error instanceof Error && /invalid input syntax for type uuid/.test(error.message)) return false;
      throw error;
    });
  if (!verified) throw refused();
  const state = await fulfilAutomatically(deps, tenant, requestId);
  return { state };
}

/**
 * Requests the person's own action settles at once; erasure waits for staff, and so does a
 * rectification unless the corrections came with it (then they are applied once verified).
 */
const AUTOMATIC: ReadonlySet<RequestKind> = new Set([
  'access',
  'portability',
  'restriction',
  'objection',
  'withdraw_consent',
  'object_direct_marketing',
]);

async function fulfilAutomatically(
  deps: RequestsDeps,
  tenant: Tenant,
  requestId: string,
): Promise<RequestState> {
  const request = await loadRequest(deps, tenant.tenantId, requestId);
  const { transferTo, corrections } = takeInput(requestId, deps.kernel.clock.now().getTime());
  const withCorrections = request.kind === 'rectification' && corrections !== undefined;
  if (!AUTOMATIC.has(request.kind) && !withCorrections) return request.state;
  await fulfil(deps, tenant, request, PORTAL, {
    ...(transferTo === undefined ? {} : { transferTo }),
    ...(withCorrections ? { corrections } : {}),
  });
  return (await loadRequest(deps, tenant.tenantId, requestId)).state;
}

async function loadRequest(deps: RequestsDeps, tenantId: number, requestId: string): Promise<RequestRow> {
  if (!/^[0-9a-f-]{36}$/.test(requestId))
    throw new AppError('not_found', 'no such request', { publicMessage: 'no such request' });
  const row = await deps.kernel.plain(tenantId, (tx) =>
    tx.selectFrom('rights_requests').selectAll().where('request_id', '=', requestId).executeTakeFirst(),
  );
  if (!row) throw new AppError('not_found', 'no such request', { publicMessage: 'no such request' });
  return row;
}

export interface RequestStatus {
  requestId: string;
  kind: RequestKind;
  state: RequestState;
  receivedOn: string;
  dueOn: string;
}

/** Status by the unguessable token: kind, state and dates only, nothing about the person. */
export async function getPublicStatus(
  deps: RequestsDeps,
  tenantSlug: string,
  requestId: string,
  statusToken: string,
): Promise<RequestStatus> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const request = await loadRequest(deps, tenant.tenantId, requestId);
  if (!timingSafeEqual(request.status_token_hash, sha256(statusToken)))
    throw new AppError('not_found', 'no such request', { publicMessage: 'no such request' });
  return present(request);
}

function present(request: RequestRow): RequestStatus {
  return {
    requestId: request.request_id,
    kind: request.kind,
    state: request.state,
    receivedOn: brusselsDate(request.received_at),
    dueOn: String(request.extended_due_on ?? request.due_on),
  };
}

export async function contactOnFile(
  deps: RequestsDeps,
  tenantId: number,
  subjectId: number,
): Promise<string | null> {
  const person = await getPerson(
    deps.kernel,
    { tenantId, actor: PORTAL, purpose: RIGHTS_PURPOSE },
    subjectId,
  ).catch(() => undefined);
  return person?.email ?? null;
}

/**
 * What a letter needs of the person on record, read under the rights purpose as contactOnFile
 * reads the e-mail: where to send it (e-mail, or name and postal address for a letter by post,
 * decision 1192) and the language they prefer (attack S24-5). Undefined: nobody readable.
 */
async function personOnFile(
  deps: RequestsDeps,
  tenantId: number,
  subjectId: number,
): Promise<
  { email: string | null; post: PostalRecipient | null; preferredLanguage: string | null } | undefined
> {
  const person = await getPerson(
    deps.kernel,
    { tenantId, actor: PORTAL, purpose: RIGHTS_PURPOSE },
    subjectId,
  ).catch(() => undefined);
  if (!person) return undefined;
  const address = person.address ?? null;
  const name = [person.givenName, person.familyName].filter((part) => part).join(' ');
  const postable =
    name !== '' &&
    address !== null &&
    [address.street, address.postalCode, address.city].every((part) => part.trim() !== '');
  return {
    email: person.email ?? null,
    post: postable && address !== null ? { name, address } : null,
    preferredLanguage: person.preferredLanguage ?? null,
  };
}

export interface FulfilOptions {
  corrections?: unknown;
  /** Portability: push the package to this HTTPS endpoint (checked again before sending). */
  transferTo?: string;
}

/**
 * How a staff fulfilment tells the person (decision 1250): by e-mail to the address on file (read
 * once, with the check), by the letter staff print from the answer and post (`post`), or — an
 * erasure of a person with neither an e-mail nor a postal address — not at all (`none`).
 * Undefined: the e-mail address is read by the fulfilment (the portal's and the account's paths).
 */
type FulfilDelivery = { by: 'email'; to: string } | { by: 'post'; to: PostalRecipient } | { by: 'none' };

/** A fulfilment's outcome, and the letter staff print and post when it goes by post. */
interface Fulfilment {
  outcome: Record<string, unknown>;
  letter?: { subject: string; text: string };
}

/**
 * Carries out a verified request: walks the data map (access, portability, erasure) or sets the
 * state the gate enforces (restriction, objection, withdrawal) — effective at once — and sends the
 * answer letter to the contact on file. Returns the outcome stored with the request.
 */
async function fulfil(
  deps: RequestsDeps,
  tenant: Tenant,
  request: RequestRow,
  actor: Actor,
  options: FulfilOptions,
  delivery?: FulfilDelivery,
): Promise<Fulfilment> {
  if (request.state !== 'verified')
    throw new AppError('conflict', 'request not verified', {
      publicMessage: `the request is ${request.state.replaceAll('_', ' ')}`,
    });
  const subjectId = request.subject_id;
  if (subjectId === null)
    throw new AppError('conflict', 'request without subject', {
      publicMessage: 'the request is not linked to a person',
    });
  const { kernel } = deps;
  const { policy } = await kernel.policies.current(tenant.tenantId);
  const lang = request.language;
  const context = { tenantId: tenant.tenantId, actor, purpose: RIGHTS_PURPOSE };
  // A letter by post is written here, printed by staff from the answer (decision 1250).
  const email = delivery
    ? delivery.by === 'email'
      ? delivery.to
      : null
    : await contactOnFile(deps, tenant.tenantId, subjectId);
  const now = kernel.clock.now();
  const facts: LetterFacts = {
    kind: request.kind,
    outcome: 'fulfilled',
    receivedOn: brusselsDate(request.received_at),
    dueOn: String(request.extended_due_on ?? request.due_on),
  };
  const told = delivery?.by === 'post' ? LETTER_POSTED : delivery?.by === 'none' ? NOT_TOLD : undefined;
  let printed: Fulfilment['letter'];
  const printFor = (letter: { subject: string; text: string }): Fulfilment['letter'] =>
    delivery?.by === 'post'
      ? {
          subject: letter.subject,
          text: `${writePostalHeading(lang, delivery.to, {
            date: brusselsDate(now),
            reference: request.request_id,
            subject: letter.subject,
          })}\n\n${letter.text}`,
        }
      : undefined;
  if (request.kind === 'erasure') {
    // The request is fulfilled, and its letter written, in the erasure's own transaction: all
    // commit, or none. The letter is sealed under its own key (the address is erased with the
    // person); the letter sender sends it after commit (decision 0190).
    // While a contract runs the erasure is decided now and carried out the day after the
    // relation's last day (decision 1210); a legal claim still refuses it (erasure_held).
    const erased = await eraseSubject(kernel, deps.dataMap, {
      ...context,
      subjectId,
      requestId: request.request_id,
      withinErasure: async (atx, result) => {
        // Two callers carrying out the same request (a retry joining it, staff at the same
        // moment) meet at the person's row; the second finds it fulfilled and changes nothing.
        await lockRequest(atx.tx, request.request_id, ['verified']);
        recordRequestChange(atx, actor, request, 'fulfil', told);
        await markFulfilled(atx.tx, request.request_id, now, {
          erased: result.erased,
          kept: result.kept,
          // Staff only: the letter and the person's pages never name these (decision 0470).
          keptSilently: result.keptSilently,
          keyDestruction: result.keyDestruction,
        });
        await completeWaitingErasures(atx.tx, subjectId, request.request_id, now, result);
        describeErasure(facts, policy, lang, result);
        // The address was read before the erasure: the letter to post names whom it erased.
        printed = printFor(writeLetter(policy, lang, facts));
        if (email)
          await queueLetter(
            deps,
            atx.tx,
            tenant.tenantId,
            policy,
            email,
            writeLetter(policy, lang, facts),
            facts.outcome,
          );
      },
    }).catch(async (error: unknown) => {
      if (!isAppError(error) || error.code !== 'erasure_contract_running') throw error;
      return deferErasure(deps, tenant.tenantId, request, actor, email, lastDayOf(error), told);
    });
    if ('deferred' in erased) {
      const { lastDay, sameAs } = erased.deferred;
      // A second request is answered by the first's letter (decision 1210): nothing new to post.
      const letter =
        sameAs === undefined
          ? printFor(writeDeferralLetter(policy, request, { lastDay, changed: false }))
          : undefined;
      return { outcome: { erasureDeferred: erased.deferred }, ...(letter ? { letter } : {}) };
    }
    describeErasure(facts, policy, lang, erased);
    if (email) dispatchLetters(deps, tenant.tenantId);
    return {
      outcome: {
        erased: erased.erased,
        kept: erased.kept,
        keptSilently: erased.keptSilently,
        keyDestruction: erased.keyDestruction,
        keyDestroyed: erased.keyDestroyed,
      },
      ...(printed ? { letter: printed } : {}),
    };
  }
  const kind = request.kind;
  let outcome: Record<string, unknown> = {};
  // What can be read or checked before the lock is: what the access report holds (the report
  // itself is built at download), a push to another organisation (only the portal's own first
  // call carries its URL, handed out once), the corrections.
  if (kind === 'access' || kind === 'portability') {
    const report = await describeAccessReport(kernel, deps.dataMap, {
      ...context,
      subjectId,
      language: lang,
    });
    outcome = { categories: report.categories, tables: report.tables };
    if (kind === 'portability' && options.transferTo !== undefined) {
      const transfer = await transferPackage(deps, policy, options.transferTo, {
        ...context,
        subjectId,
        language: lang,
      });
      outcome.transfer = transfer;
      facts.transferHost = hostOf(options.transferTo);
      facts.outcome = transfer.ok ? 'transfer_sent' : 'transfer_failed';
    } else if (delivery?.by === 'post') {
      // Staff took the package (GET …/package) and post it with the letter: no link is made.
      facts.outcome = 'data_enclosed';
      outcome.enclosedByPost = true;
    } else facts.outcome = 'download_ready';
  }
  const corrections =
    kind === 'rectification' ? rectificationSchema.safeParse(options.corrections) : undefined;
  if (corrections && !corrections.success) throw invalid(`corrections: ${describeIssues(corrections.error)}`);
  // One transaction that starts with the request's row lock (decision 0893): of two calls at the
  // same moment the second waits, finds the request fulfilled and is refused, having made no
  // download link, changed nothing and written no letter.
  await kernel.transact(tenant.tenantId, async (atx) => {
    await lockRequest(atx.tx, request.request_id, ['verified']);
    switch (kind) {
      case 'access':
      case 'portability': {
        if (facts.outcome === 'transfer_sent' || facts.outcome === 'data_enclosed') break;
        const token = randomBytes(32).toString('base64url');
        await atx.tx
          .insertInto('export_downloads')
          .values({
            tenant_id: tenant.tenantId,
            token_hash: sha256(token),
            request_id: request.request_id,
            expires_at: new Date(now.getTime() + DOWNLOAD_TTL_MS),
          })
          .execute();
        facts.link = `${deps.publicUrl}/t/${tenant.slug}/privacy/downloads/${token}`;
        break;
      }
      case 'rectification': {
        if (!corrections?.success) throw new AppError('internal', 'corrections not checked');
        const changed = await rectifyPersonWithin(kernel, atx, context, subjectId, corrections.data);
        outcome = { changedCategories: changed };
        break;
      }
      case 'restriction':
        await setRestriction(atx, subjectId, true, now);
        outcome = { restricted: true };
        break;
      case 'object_direct_marketing':
        // Into the consent ledger, which moves the gate's state in the same transaction.
        await appendConsentWithin(
          kernel,
          atx,
          { tenantId: tenant.tenantId, actor: LEDGER_ACTOR },
          {
            subjectId,
            purpose: null,
            event: 'objected_marketing',
            channel: 'rights_request',
            proofReference: `rights_request:${request.request_id}`,
          },
        );
        outcome = { marketingObjected: true };
        break;
      case 'objection':
      case 'withdraw_consent': {
        const basis = kind === 'objection' ? 'legitimate_interests' : 'consent';
        const named = request.purposes.length > 0;
        const purposes = named ? request.purposes : Object.keys(policy.purposes);
        // Into the consent ledger (one record per purpose the person is reached by and that rests on
        // the basis this right stops), which moves the gate's state with it. Only what was stopped is
        // reported as done; a named purpose that cannot be stopped is answered with why (Art. 12(4),
        // 21(1); decision 0411).
        const { subject_type: subjectType } = await atx.tx
          .selectFrom('data_subjects')
          .select('subject_type')
          .where('subject_id', '=', subjectId)
          .executeTakeFirstOrThrow();
        const stopped: string[] = [];
        const notStopped: Array<{ purpose: string; reason: NotStoppedReason }> = [];
        for (const key of purposes) {
          const purpose = policy.purposes[key];
          const reaches = purpose?.subjectTypes.includes(subjectType) === true;
          if (purpose && reaches && purpose.legalBasis === basis) stopped.push(key);
          else if (named)
            notStopped.push({
              purpose: key,
              reason: purpose && reaches ? purpose.legalBasis : 'not_processed',
            });
        }
        for (const purpose of stopped) {
          // Art. 17(1)(c): what only an objected purpose keeps has no ground left. The technical
          // dossier goes at once, with the objection (the ledger does it for every door); the sweep
          // takes the rest of what only an objected purpose keeps (decision 0915).
          const effects: StopEffects = {};
          await appendConsentWithin(
            kernel,
            atx,
            { tenantId: tenant.tenantId, actor: LEDGER_ACTOR },
            {
              subjectId,
              purpose,
              event: kind === 'objection' ? 'objected' : 'withdrawn',
              channel: 'rights_request',
              proofReference: `rights_request:${request.request_id}`,
            },
            effects,
          );
          if (effects.dossierErased) outcome.dossierErased = effects.dossierErased;
        }
        const label = (key: string): string => policy.purposes[key]?.label[lang] ?? key;
        facts.stopped = stopped.map(label);
        facts.notStopped = notStopped.map((item) => ({
          what: label(item.purpose),
          why: whyNotStopped(lang, kind, item.reason),
        }));
        outcome = { ...outcome, purposes: stopped, notStopped };
        if (stopped.length === 0) {
          facts.outcome = 'rejected';
          facts.reason = nothingStoppedReason(lang);
        }
        break;
      }
    }
    // An objection or withdrawal that stopped nothing is answered as a refusal, with why.
    const refused = facts.outcome === 'rejected';
    await markFulfilled(atx.tx, request.request_id, now, outcome, refused ? 'rejected' : 'fulfilled');
    recordRequestChange(atx, actor, request, refused ? 'reject' : 'fulfil', told);
    printed = printFor(writeLetter(policy, lang, facts));
    if (email)
      await queueLetter(
        deps,
        atx.tx,
        tenant.tenantId,
        policy,
        email,
        writeLetter(policy, lang, facts),
        facts.outcome,
      );
  });
  if (email) dispatchLetters(deps, tenant.tenantId);
  return { outcome, ...(printed ? { letter: printed } : {}) };
}

/** The audit reason of a change told by a letter staff post (decision 1192, 1250). */
const LETTER_POSTED = 'letter posted by staff';
/** The audit reason of an erasure of a person nobody can write to (decision 1250). */
const NOT_TOLD = 'no contact on file: not told';

/** What the erasure letter lists: erased and kept categories, in the person's language. */
function describeErasure(
  facts: LetterFacts,
  policy: Policy,
  lang: Language,
  erased: Pick<ErasureOutcome, 'erased' | 'kept'>,
): void {
  // Only what the policy names in the person's language (attack A7): a table whose columns carry
  // no category of this policy, or a category the policy does not declare, is no line of words.
  const labelsOf = (categories: readonly string[]): string =>
    [...new Set(categories.flatMap((key) => policy.categories[key]?.label[lang] ?? []))].join(', ');
  facts.erased = erased.erased.flatMap((item) => {
    const what = labelsOf(item.categories);
    return what === '' ? [] : [`${what} (${item.rows})`];
  });
  const words = STATEMENT_TEXTS[lang];
  facts.kept = erased.kept.flatMap((item) => {
    const what = labelsOf(item.categories);
    const hold = policy.legalHolds[item.legalHold];
    if (what === '' || !hold) return [];
    const rule = policy.retentionRules[hold.retention];
    // "Until" in words, as the erase page says it.
    return [
      {
        what,
        why: `${hold.label[lang]} (${item.legalReference})`,
        until: rule ? words.retention.rule(rule) : '',
      },
    ];
  });
}

/**
 * The reference of a paper request's scan (correspondence about the person, VK-26) on its
 * request, under a write grant for that category (of the person, when the request names one).
 */
async function writeScanReference(
  tx: Tx,
  grant: Grant,
  request: { requestId: string; subjectId: number | null },
  scanReference: string,
): Promise<void> {
  grant.assertWritable();
  if (request.subjectId !== null) grant.assertCovers(CORRESPONDENCE, request.subjectId);
  else if (!grant.categories.has(CORRESPONDENCE))
    throw new AppError('category_not_allowed', `grant for ${grant.purpose} does not cover ${CORRESPONDENCE}`);
  await tx
    .updateTable('rights_requests')
    .set({ scan_reference: scanReference })
    .where('request_id', '=', request.requestId)
    .execute();
}

/** The request's outcome (names and counts only; `corrections_enc` is never written, nothing to empty). */
async function markFulfilled(
  tx: Tx,
  requestId: string,
  now: Date,
  outcome: Record<string, unknown>,
  state: 'fulfilled' | 'rejected' = 'fulfilled',
): Promise<void> {
  await tx
    .updateTable('rights_requests')
    .set({ state, fulfilled_at: now, outcome: JSON.stringify(outcome) })
    .where('request_id', '=', requestId)
    .execute();
}

/** An erasure decided while a contract runs: the relation's last day (null: no end date yet). */
interface DeferredErasure {
  /** sameAs: the person's erasure already waited for this request; no second row, no letter. */
  deferred: { lastDay: string | null; sameAs?: string };
}

/**
 * The relation's last day from a refusal `erasure_contract_running` (its holds are all running
 * contracts): the latest end, or null when a contract has no end date.
 */
function lastDayOf(error: AppError): string | null {
  const holds = (error.details as { holds?: Array<{ endsOn?: unknown }> } | undefined)?.holds ?? [];
  const ends = holds.map((hold) => (typeof hold.endsOn === 'string' ? hold.endsOn : null));
  if (ends.length === 0 || ends.includes(null)) return null;
  return (ends as string[]).sort().at(-1) ?? null;
}

/** The relation's last day from open erasure holds that are all running contracts. */
function lastDayOfHolds(holds: readonly ErasureHold[]): string | null {
  if (holds.some((hold) => hold.endsOn === null)) return null;
  return (
    holds
      .flatMap((hold) => (hold.endsOn ? [hold.endsOn] : []))
      .sort()
      .at(-1) ?? null
  );
}

/**
 * Answers an erasure request of a person whose contract runs (decision 1210): the erasure is
 * recorded as waiting for the day after the relation's last day, the request is closed as
 * answered (fulfilled, its outcome saying deferred, with the day), and the letter tells the
 * person the date, all in one transaction that starts with the request's row lock. When an
 * erasure of the person already waits (a second request), this one is answered with that
 * request's day and id, and nothing else is recorded or sent: the person was told the date once.
 */
async function deferErasure(
  deps: RequestsDeps,
  tenantId: number,
  request: RequestRow,
  actor: Actor,
  email: string | null,
  lastDay: string | null,
  told?: string,
): Promise<DeferredErasure> {
  const { kernel } = deps;
  const { policy } = await kernel.policies.current(tenantId);
  const now = kernel.clock.now();
  const subjectId = Number(request.subject_id);
  const waiting = await kernel.transact(tenantId, async (atx) => {
    // Two requests of one person answered at the same moment meet at the person's row (taken
    // before the request's, in the order the erasure takes them): the second sees the first's row.
    const subject = await atx.tx
      .selectFrom('data_subjects')
      .select('erased_at')
      .where('subject_id', '=', subjectId)
      .forNoKeyUpdate()
      .executeTakeFirst();
    // Erased since the contract was found running (the job, a staff DELETE): nothing may wait for
    // them; fulfilling again finds them erased and answers as any erasure does.
    if (subject?.erased_at)
      throw new AppError('conflict', 'subject erased meanwhile', {
        publicMessage: 'the person was erased meanwhile; fulfil the request again',
        details: { reason: 'state_changed', state: 'verified' },
      });
    await lockRequest(atx.tx, request.request_id, ['verified']);
    const earlier = await atx.tx
      .selectFrom('deferred_erasures')
      .select(['request_id', 'last_day'])
      .where('subject_id', '=', subjectId)
      .orderBy('recorded_at')
      .orderBy('request_id')
      .executeTakeFirst();
    if (earlier) {
      const deferred = { lastDay: earlier.last_day, sameAs: earlier.request_id };
      // Answered by the first request's letter: no letter of its own is posted (decision 1250).
      recordRequestChange(atx, actor, request, 'defer', told === LETTER_POSTED ? undefined : told);
      await markFulfilled(atx.tx, request.request_id, now, { erasureDeferred: deferred });
      return deferred;
    }
    await atx.tx
      .insertInto('deferred_erasures')
      .values({
        tenant_id: tenantId,
        request_id: request.request_id,
        subject_id: subjectId,
        last_day: lastDay,
        recorded_at: now,
      })
      .execute();
    recordRequestChange(atx, actor, request, 'defer', told);
    await markFulfilled(atx.tx, request.request_id, now, { erasureDeferred: { lastDay } });
    if (email)
      await queueDeferralLetter(deps, atx.tx, tenantId, policy, email, request, { lastDay, changed: false });
    return undefined;
  });
  if (waiting) return { deferred: waiting };
  if (email) dispatchLetters(deps, tenantId);
  return { deferred: { lastDay } };
}

/** The erasure the person's request left waiting for their contract's end, if any (decision 1210). */
export async function findDeferredErasure(
  deps: RequestsDeps,
  tenantId: number,
  subjectId: number,
): Promise<{ requestId: string; lastDay: string | null } | undefined> {
  const row = await deps.kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('deferred_erasures')
      .select(['request_id', 'last_day'])
      .where('subject_id', '=', subjectId)
      .orderBy('recorded_at')
      .executeTakeFirst(),
  );
  return row ? { requestId: row.request_id, lastDay: row.last_day } : undefined;
}

const hostOf = (url: string): string => {
  try {
    return new URL(url).host;
  } catch {
    return '';
  }
};

/**
 * Streams the person's portability ZIP (every category of the data map, under the rights purpose)
 * to the endpoint they named. The address is checked again here, right before connecting. The
 * result (status, bytes) is kept with the request; the URL never reaches the outcome, logs or audit.
 */
async function transferPackage(
  deps: RequestsDeps,
  policy: Policy,
  transferTo: string,
  options: Parameters<typeof streamPortabilityZip>[2],
): Promise<TransferResult> {
  const settings = deps.transfer ?? {};
  let target: TransferTarget;
  try {
    target = await checkTransferUrl(transferTo, settings);
  } catch (error) {
    // The name now resolves to an internal address (rebinding): refused, said so (decision 0878).
    const isRefused = isAppError(error) && error.message === NON_PUBLIC_DESTINATION;
    return {
      ok: false,
      httpStatus: null,
      bytesSent: 0,
      error: isRefused ? 'destination_refused' : 'connection_failed',
    };
  }
  const { controller } = policy;
  const result = await pushPortabilityZip(target, settings, {
    controller: `${controller.legalName} ${controller.legalForm} (${controller.enterpriseNumber})`,
    writeZip: (output) => streamPortabilityZip(deps.kernel, deps.dataMap, options, output),
  });
  deps.logger.info(
    { transfer: { ok: result.ok, httpStatus: result.httpStatus, bytesSent: result.bytesSent } },
    'portability transfer',
  );
  return result;
}

// ---------------------------------------------------------------- staff side

export interface StaffContext {
  tenantId: number;
  actor: Extract<Actor, { kind: 'staff' }>;
  requestId?: string;
}

/** Staff handling requests must be allowed under the rights purpose; the gate checks and audits it. */
export async function authorizeStaff(
  deps: RequestsDeps,
  context: StaffContext,
  subjectIds: number[] = [],
): Promise<void> {
  await deps.kernel.transact(context.tenantId, async (atx) => {
    await deps.kernel.gate.authorize(atx, context.actor, {
      purpose: RIGHTS_PURPOSE,
      action: 'read',
      categories: [],
      subjectIds,
    });
  });
}

async function tenantOf(deps: RequestsDeps, tenantId: number): Promise<Tenant> {
  return deps.kernel.tenants.byId(tenantId);
}

export const staffRequestSchema = z.object({
  kind: z.enum(REQUEST_KINDS),
  channel: z.enum(['letter', 'email', 'phone', 'in_person']),
  subjectId: z.number().int().positive(),
  language: z.enum(['nl', 'fr', 'en']).optional(),
  scanReference: z.string().trim().min(1).max(200).optional(),
  /** How staff verified the person's identity, e.g. `id_card_seen`, `callback_on_file_number`. */
  verificationMethod: z
    .string()
    .regex(/^[a-z][a-z0-9_]{2,40}$/)
    .optional(),
  purposes: z
    .array(z.string().regex(/^[a-z][a-z0-9_]*$/))
    .max(30)
    .default([]),
});

export type StaffRequestInput = z.input<typeof staffRequestSchema>;

/** A request received by letter, e-mail or phone, registered by staff (with the scan reference, never the ID). */
export async function registerStaffRequest(
  deps: RequestsDeps,
  context: StaffContext,
  input: StaffRequestInput,
): Promise<RequestStatus> {
  const request = parseInput(staffRequestSchema, input);
  assertRequestText([{ column: 'scan_reference', field: 'scanReference', value: request.scanReference }]);
  await authorizeStaff(deps, context, [request.subjectId]);
  const tenant = await tenantOf(deps, context.tenantId);
  const { policy } = await deps.kernel.policies.current(context.tenantId);
  assertOffered(policy, request.kind);
  assertKnownPurposes(policy, request.purposes);
  const receipt = await insertRequest(deps, tenant, {
    actor: context.actor,
    kind: request.kind,
    channel: request.channel,
    subjectId: request.subjectId,
    language: request.language ?? (await languageOnFile(deps, policy, context.tenantId, request.subjectId)),
    purposes: request.purposes,
    verified: request.verificationMethod ? { method: `staff_${request.verificationMethod}` } : undefined,
    scanReference: request.scanReference ?? null,
  });
  return present(await loadRequest(deps, context.tenantId, receipt.requestId));
}

/**
 * The language of a request staff register without one: the person's preferred language on
 * record when the policy writes in it (as invoices, decision 0310), else the policy's first
 * (attack S24-5, decision 1235).
 */
async function languageOnFile(
  deps: RequestsDeps,
  policy: Policy,
  tenantId: number,
  subjectId: number,
): Promise<Language> {
  const preferred = (await personOnFile(deps, tenantId, subjectId))?.preferredLanguage;
  return (
    policy.statement.languages.find((language) => language === preferred) ??
    policy.statement.languages[0] ??
    'nl'
  );
}

/** Identity checked by staff by another method (recorded). */
export async function verifyByStaff(
  deps: RequestsDeps,
  context: StaffContext,
  requestId: string,
  method: string,
): Promise<RequestStatus> {
  if (!/^[a-z][a-z0-9_]{2,40}$/.test(method))
    throw invalid('method: expected a method key like id_card_seen');
  const request = await loadRequest(deps, context.tenantId, requestId);
  if (request.subject_id === null)
    throw new AppError('conflict', 'unmatched request', {
      publicMessage: 'link the request to a person first',
    });
  await authorizeStaff(deps, context, [request.subject_id]);
  if (request.state !== 'awaiting_verification')
    throw new AppError('conflict', 'not awaiting verification', {
      publicMessage: `the request is ${request.state.replaceAll('_', ' ')}`,
    });
  await changeRequest(
    deps,
    context.tenantId,
    context.actor,
    request,
    'verify',
    { from: ['awaiting_verification'] },
    { state: 'verified', verified_at: deps.kernel.clock.now(), verification_method: `staff_${method}` },
  );
  return present(await loadRequest(deps, context.tenantId, requestId));
}

/**
 * Art. 12(3): once per request, up to two further months, with a reason, notified to the person.
 * A second extension is refused (409 `already_extended`) and mails nothing (decision 0893).
 */
export async function extendRequest(
  deps: RequestsDeps,
  context: StaffContext,
  requestId: string,
  input: { until: string; reason: string; letterPosted?: boolean },
): Promise<RequestStatus> {
  const request = await loadRequest(deps, context.tenantId, requestId);
  await authorizeStaff(deps, context, request.subject_id ? [request.subject_id] : []);
  assertOpen(request);
  assertNotExtended(request);
  const reason = input.reason.trim();
  if (reason.length < 10 || reason.length > 500)
    throw invalid('reason: give the reason in 10 to 500 characters');
  assertRequestText([{ column: 'extension_reason', field: 'reason', value: reason }]);
  const due = String(request.due_on);
  assertWithinFirstTerm(due, brusselsDate(deps.kernel.clock.now()));
  if (!/^\d{4}-\d{2}-\d{2}$/.test(input.until) || input.until <= due || input.until > latestExtension(due)) {
    throw invalid(
      `until: must lie after ${due} and no later than ${latestExtension(due)} (two further months, GDPR Art. 12(3))`,
    );
  }
  const told = await letterOrPost(
    deps,
    request,
    { outcome: 'extended', dueOn: input.until, reason },
    input.letterPosted,
  );
  await changeRequest(
    deps,
    context.tenantId,
    context.actor,
    request,
    'extend',
    { from: OPEN_STATES, check: assertNotExtended },
    { extended_due_on: input.until, extension_reason: reason },
    { correspondence: true, ...told },
  );
  return present(await loadRequest(deps, context.tenantId, requestId));
}

export async function rejectRequest(
  deps: RequestsDeps,
  context: StaffContext,
  requestId: string,
  reason: string,
  letterPosted?: boolean,
): Promise<RequestStatus> {
  const request = await loadRequest(deps, context.tenantId, requestId);
  await authorizeStaff(deps, context, request.subject_id ? [request.subject_id] : []);
  assertOpen(request);
  if (reason.trim().length < 10 || reason.length > 500)
    throw invalid('reason: give the reason in 10 to 500 characters');
  assertRequestText([{ column: 'rejected_reason', field: 'reason', value: reason }]);
  const told = await letterOrPost(
    deps,
    request,
    { outcome: 'rejected', reason: reason.trim() },
    letterPosted,
  );
  await changeRequest(
    deps,
    context.tenantId,
    context.actor,
    request,
    'reject',
    { from: OPEN_STATES },
    { state: 'rejected', rejected_reason: reason.trim() },
    { correspondence: true, ...told },
  );
  return present(await loadRequest(deps, context.tenantId, requestId));
}

/** A closed request (fulfilled or rejected) is neither extended nor rejected. */
function assertOpen(request: Pick<RequestRow, 'state'>): void {
  if (!OPEN_STATES.includes(request.state))
    throw new AppError('conflict', 'request closed', {
      publicMessage: 'the request is closed',
      details: { reason: 'closed', state: request.state },
    });
}

/**
 * Art. 12(3): the person is told of an extension, and why, within the month of receipt; both
 * statements promise the answer within the first term. Past its first due date a request is
 * overdue, not extended (decision 0918).
 */
function assertWithinFirstTerm(dueOn: string, today: string): void {
  if (today > dueOn)
    throw new AppError('conflict', 'extension after the due date', {
      publicMessage: `the request was due on ${dueOn}: an extension is told to the person within the first term (GDPR Art. 12(3)); answer it now`,
      details: { reason: 'past_due', dueOn },
    });
}

/** Art. 12(3) knows one extension: a request already extended is not extended again. */
function assertNotExtended(request: Pick<RequestRow, 'extended_due_on'>): void {
  if (request.extended_due_on !== null)
    throw new AppError('conflict', 'request already extended', {
      publicMessage: `the request was already extended, until ${String(request.extended_due_on)}; GDPR Art. 12(3) allows one extension`,
      details: { reason: 'already_extended', extendedUntil: String(request.extended_due_on) },
    });
}

/**
 * The person hears of an extension or a rejection, and why, within the month (Art. 12(3)-(4)):
 * by the e-mail queued with the change (written before the change's transaction: the contact on
 * file is read under its own grant), or — a person on record with no e-mail address — by the
 * letter staff print from the preview and post, which they confirm with `letterPosted` (decision
 * 1192). A person with neither an e-mail nor a postal address on file cannot be written to: the
 * change is refused until staff record one (409 `no_contact_on_file`). A request that names
 * nobody (the public form's, for an address matching no one) has no one on record to write to:
 * its requester follows it on the status page the form gave them.
 */
async function letterOrPost(
  deps: RequestsDeps,
  request: RequestRow,
  facts: Partial<LetterFacts> & { outcome: 'extended' | 'rejected' },
  letterPosted: boolean | undefined,
): Promise<{ letter?: QueuedLetter; posted?: true }> {
  if (request.subject_id === null) return {};
  const person = await personOnFile(deps, request.tenant_id, request.subject_id);
  if (person?.email) {
    const { policy } = await deps.kernel.policies.current(request.tenant_id);
    const letter = writeLetter(policy, request.language, {
      kind: request.kind,
      receivedOn: brusselsDate(request.received_at),
      dueOn: String(request.extended_due_on ?? request.due_on),
      ...facts,
    });
    return { letter: { policy, to: person.email, letter, outcome: facts.outcome } };
  }
  if (!person?.post) throw noContactOnFile();
  if (letterPosted === true) return { posted: true };
  throw letterByPost();
}

/** The letter that tells the person when their deferred erasure will be carried out (decision 1210). */
async function queueDeferralLetter(
  deps: RequestsDeps,
  tx: Tx,
  tenantId: number,
  policy: Policy,
  email: string,
  request: RequestRow,
  deferred: { lastDay: string | null; changed: boolean },
): Promise<void> {
  const letter = writeDeferralLetter(policy, request, deferred);
  await queueLetter(deps, tx, tenantId, policy, email, letter, 'erasure_deferred');
}

function writeDeferralLetter(
  policy: Policy,
  request: RequestRow,
  deferred: { lastDay: string | null; changed: boolean },
): { subject: string; text: string } {
  return writeLetter(policy, request.language, {
    kind: 'erasure',
    outcome: 'erasure_deferred',
    receivedOn: brusselsDate(request.received_at),
    dueOn: String(request.extended_due_on ?? request.due_on),
    deferred,
  });
}

/**
 * Staff carry out a verified request. The person hears of it as of an extension or a rejection
 * (decisions 1192, 1250): by e-mail; or, with no e-mail address on file, by the letter staff post —
 * refused (409 `letter_by_post`, nothing done) until they send `letterPosted: true`, then carried out
 * without a mail, audited as posted, and the letter to print is in the answer (an access or
 * portability request's data go with it, taken from `GET …/package`, no link is made). With neither
 * an e-mail nor a postal address on file it is refused (409 `no_contact_on_file`), except an
 * erasure: that is carried out and audited as told to no one, as after it nothing is left to write to.
 */
export async function fulfilByStaff(
  deps: RequestsDeps,
  context: StaffContext,
  requestId: string,
  options: FulfilOptions & { letterPosted?: boolean | undefined },
): Promise<Fulfilment> {
  const request = await loadRequest(deps, context.tenantId, requestId);
  await authorizeStaff(deps, context, request.subject_id ? [request.subject_id] : []);
  const delivery =
    request.state === 'verified' ? await fulfilDelivery(deps, request, options.letterPosted) : undefined;
  return fulfil(deps, await tenantOf(deps, context.tenantId), request, context.actor, options, delivery);
}

/** How a staff fulfilment reaches the person, or why it may not be made yet (decision 1250). */
async function fulfilDelivery(
  deps: RequestsDeps,
  request: RequestRow,
  letterPosted: boolean | undefined,
): Promise<FulfilDelivery | undefined> {
  if (request.subject_id === null) return undefined;
  const person = await personOnFile(deps, request.tenant_id, request.subject_id);
  // Nobody readable (erased meanwhile): the fulfilment answers as it always did.
  if (!person) return undefined;
  if (person.email) return { by: 'email', to: person.email };
  if (!person.post) {
    if (request.kind === 'erasure') return { by: 'none' };
    throw noContactOnFile();
  }
  if (letterPosted !== true) throw letterByPost();
  return { by: 'post', to: person.post };
}

function noContactOnFile(): AppError {
  return new AppError('conflict', 'neither e-mail nor postal address on file for the letter', {
    publicMessage:
      'the person has neither an e-mail address nor a postal address on file, so they cannot be told: record one first (ask them by phone if they called), then try again',
    details: { reason: 'no_contact_on_file' },
  });
}

function letterByPost(): AppError {
  return new AppError('conflict', 'no e-mail address on file for the letter', {
    publicMessage:
      'the person has no e-mail address on file: print the letter (letter-preview), post it, and send this again with letterPosted: true',
    details: { reason: 'letter_by_post' },
  });
}

/** A request's row, for the module's own files (the package download). */
export type RightsRequestRow = RequestRow;

/**
 * The request whose package staff may take to post with the letter (decision 1250): a verified
 * access or portability request of a person with no e-mail address but a postal address on file.
 * Anyone else gets their data by the mailed link (409 `letter_by_email`); checked before a byte
 * is read, so a refusal reads and exports nothing.
 */
export async function openPackageForPost(
  deps: RequestsDeps,
  context: StaffContext,
  requestId: string,
): Promise<{ tenant: Tenant; request: RequestRow }> {
  const request = await loadRequest(deps, context.tenantId, requestId);
  await authorizeStaff(deps, context, request.subject_id ? [request.subject_id] : []);
  if (request.kind !== 'access' && request.kind !== 'portability')
    throw new AppError('conflict', 'no package for this kind', {
      publicMessage: 'only an access or a portability request has a package',
      details: { reason: 'no_package' },
    });
  if (request.state !== 'verified' || request.subject_id === null)
    throw new AppError('conflict', `request is ${request.state}`, {
      publicMessage: `the request is ${request.state.replaceAll('_', ' ')}: the package is taken to answer a verified request`,
      details: { reason: 'state_changed', state: request.state },
    });
  const person = await personOnFile(deps, request.tenant_id, request.subject_id);
  if (person?.email)
    throw new AppError('conflict', 'the package goes by the mailed link', {
      publicMessage:
        'the person has an e-mail address on file: fulfilling the request mails them a single-use download link',
      details: { reason: 'letter_by_email' },
    });
  if (!person?.post) throw noContactOnFile();
  return { tenant: await tenantOf(deps, context.tenantId), request };
}

export interface RequestListItem extends RequestStatus {
  channel: RequestChannel;
  subjectId: number | null;
  overdue: boolean;
  verificationMethod: string | null;
  /** The extended due date, once the request was extended (decision 0893: at most once). */
  extendedUntil: string | null;
  /** Whether `extend` would still be accepted: open and not yet extended (decision 0906). */
  canExtend: boolean;
}

/** Filters of the request list; `cursor` is the nextCursor of the previous page. */
export interface RequestListFilter {
  state?: RequestState;
  /** true: only requests past their (extended) due date and still open; false: all others. */
  overdue?: boolean;
  limit: number;
  cursor?: string;
}

/** The dashboard: requests by due date; `overdue` = past the (extended) due date and still open. */
export async function listRequests(
  deps: RequestsDeps,
  context: StaffContext,
  filter: RequestListFilter,
): Promise<{ items: RequestListItem[]; nextCursor: string | null }> {
  await authorizeStaff(deps, context);
  return selectRequests(deps, context.tenantId, filter);
}

/** The same list for the operator's CLI (`kluis requests list`); it shows no personal data. */
export async function listRequestsForOperator(
  deps: RequestsDeps,
  tenantId: number,
  filter: { state?: RequestState; overdue?: boolean; limit: number },
): Promise<RequestListItem[]> {
  return (await selectRequests(deps, tenantId, filter)).items;
}

async function selectRequests(
  deps: RequestsDeps,
  tenantId: number,
  filter: RequestListFilter,
): Promise<{ items: RequestListItem[]; nextCursor: string | null }> {
  const today = brusselsDate(deps.kernel.clock.now());
  // Keyset on (due date, received at, id): the cursor is opaque and survives inserts.
  const position = filter.cursor === undefined ? undefined : decodeCursor(filter.cursor, 3);
  if (filter.cursor !== undefined && !position) {
    throw validationError('cursor: not a cursor from a previous page', {
      issues: [{ path: 'querystring/cursor', message: 'not a cursor from a previous page' }],
    });
  }
  const rows = await deps.kernel.plain(tenantId, (tx) => {
    let query = tx
      .selectFrom('rights_requests')
      .selectAll()
      .select(sql<string>`received_at::text`.as('received_key'))
      .orderBy('due_on')
      .orderBy('received_at')
      .orderBy('request_id')
      .limit(filter.limit + 1);
    if (position) {
      const [dueOn, receivedAt, requestId] = position as [string, string, string];
      query = query.where(
        sql<boolean>`(due_on, received_at, request_id) > (${dueOn}::date, ${receivedAt}::timestamptz, ${requestId}::uuid)`,
      );
    }
    if (filter.state) query = query.where('state', '=', filter.state);
    const isOverdue = sql<boolean>`(state in ('awaiting_verification', 'verified') and coalesce(extended_due_on, due_on) < ${today}::date)`;
    if (filter.overdue === true) query = query.where(isOverdue);
    if (filter.overdue === false) query = query.where(sql<boolean>`not ${isOverdue}`);
    return query.execute();
  });
  const page = rows.slice(0, filter.limit);
  const last = page.at(-1);
  return {
    items: page.map((row) => ({
      ...present(row),
      channel: row.channel,
      subjectId: row.subject_id,
      verificationMethod: row.verification_method,
      overdue: OPEN_STATES.includes(row.state) && String(row.extended_due_on ?? row.due_on) < today,
      extendedUntil: row.extended_due_on === null ? null : String(row.extended_due_on),
      // Only within the first term (decision 0918).
      canExtend:
        OPEN_STATES.includes(row.state) && row.extended_due_on === null && String(row.due_on) >= today,
    })),
    nextCursor:
      rows.length > filter.limit && last
        ? encodeCursor([String(last.due_on), last.received_key, last.request_id])
        : null,
  };
}

/**
 * The daily job (VK-27): mails the privacy contact the open requests due within 7 days or
 * overdue, once a day, and returns them. The requests are marked reminded today and the day's
 * reminder written to the letter outbox in one transaction that locks them (decision 0850), so a
 * second process running at the same moment claims nothing and sends nothing, and a crash or an
 * SMTP failure after the claim leaves the reminder for the letter sender instead of losing it.
 * The outbox is then sent at once (the letter sender is the backstop).
 */
export async function sendDeadlineReminders(
  deps: RequestsDeps,
  tenantId: number,
): Promise<{ dueSoon: number; overdue: number }> {
  const today = brusselsDate(deps.kernel.clock.now());
  const soon = new Date(`${today}T00:00:00Z`);
  soon.setUTCDate(soon.getUTCDate() + 7);
  const horizon = soon.toISOString().slice(0, 10);
  const { policy } = await deps.kernel.policies.current(tenantId);
  const due = (row: { due_on: unknown; extended_due_on: unknown }): string =>
    String(row.extended_due_on ?? row.due_on);
  const claimed = await deps.kernel.plain(tenantId, async (tx) => {
    const rows = await tx
      .selectFrom('rights_requests')
      .select(['request_id', 'kind', 'due_on', 'extended_due_on', 'last_reminder_on'])
      .where('state', 'in', ['awaiting_verification', 'verified'])
      .where((eb) => eb(eb.fn.coalesce('extended_due_on', 'due_on'), '<=', horizon))
      .where((eb) => eb.or([eb('last_reminder_on', 'is', null), eb('last_reminder_on', '<>', today)]))
      .orderBy('request_id')
      .forUpdate()
      .execute();
    if (rows.length === 0) return rows;
    await tx
      .updateTable('rights_requests')
      .set({ last_reminder_on: today })
      .where(
        'request_id',
        'in',
        rows.map((row) => row.request_id),
      )
      .execute();
    const overdue = rows.filter((row) => due(row) < today).length;
    const lines = rows.map(
      (row) => `${due(row) < today ? 'OVERDUE' : 'due'} ${due(row)}  ${row.kind}  ${row.request_id}`,
    );
    // The day's reminder commits with its claim: claimed means queued, never claimed and lost.
    await sealLetter(
      deps.kernel,
      tx,
      {
        to: policy.controller.privacyContact.email,
        subject: `Kluis: ${overdue} overdue, ${rows.length - overdue} due within 7 days`,
        text: `Open data-subject requests (GDPR Art. 12(3)):\n\n${lines.join('\n')}\n`,
      },
      {
        tenantId,
        purpose: RIGHTS_PURPOSE,
        kind: 'request.deadline_reminder',
        messageDomain: messageDomainOf(deps.publicUrl),
      },
    );
    return rows;
  });
  if (claimed.length === 0) return { dueSoon: 0, overdue: 0 };
  // Claimed and queued: a crash from here leaves the reminder for the letter sender.
  await reachTestHook('requests.deadline-reminder-queued');
  await deliverLetters(deps.kernel, deps.mailer, [tenantId], deps.logger);
  const overdue = claimed.filter((row) => due(row) < today).length;
  return { dueSoon: claimed.length - overdue, overdue };
}

/**
 * A download link serves one complete download within its validity (decision 0382): each start
 * counts, and the link is spent once a download was written to the end (`completeDownload`) or
 * after MAX_DOWNLOAD_STARTS starts, whichever comes first; a broken connection does not spend it.
 */
export const MAX_DOWNLOAD_STARTS = 3;

/** Starts a download: returns what to stream, or refuses (expired, spent, unknown). */
export async function consumeDownload(
  deps: RequestsDeps,
  tenantSlug: string,
  token: string,
): Promise<{ tenant: Tenant; request: RequestRow }> {
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const gone = (): AppError =>
    new AppError('not_found', 'no such download', { publicMessage: 'this link is unknown, used or expired' });
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) throw gone();
  const now = deps.kernel.clock.now();
  const row = await deps.kernel.plain(tenant.tenantId, (tx) =>
    tx
      .updateTable('export_downloads')
      .set((eb) => ({
        attempts: eb('attempts', '+', 1),
        // The last start a link allows spends it, whatever becomes of that download.
        used_at: sql<Date | null>`case when ${eb.ref('attempts')} >= ${MAX_DOWNLOAD_STARTS - 1} then ${now}::timestamptz end`,
      }))
      .where('token_hash', '=', sha256(token))
      .where('used_at', 'is', null)
      .where('expires_at', '>', now)
      .where('attempts', '<', MAX_DOWNLOAD_STARTS)
      .where(stillWithinGrace('completed_at', now))
      .returning('request_id')
      .executeTakeFirst(),
  );
  if (!row) throw gone();
  return { tenant, request: await loadRequest(deps, tenant.tenantId, row.request_id) };
}

/**
 * Whether a download link still works, and the language of its request, without counting a
 * start: what the link's page (a GET or HEAD, which a mail scanner may send) may learn.
 */
export async function findDownload(
  deps: RequestsDeps,
  tenantSlug: string,
  token: string,
): Promise<{ language: Language; tenantId: number; subjectId: number | null } | undefined> {
  if (!/^[A-Za-z0-9_-]{43}$/.test(token)) return undefined;
  const tenant = await deps.kernel.tenants.bySlug(tenantSlug);
  const now = deps.kernel.clock.now();
  const row = await deps.kernel.plain(tenant.tenantId, (tx) =>
    tx
      .selectFrom('export_downloads as d')
      .innerJoin('rights_requests as r', (join) =>
        join.onRef('r.tenant_id', '=', 'd.tenant_id').onRef('r.request_id', '=', 'd.request_id'),
      )
      .select(['r.language', 'r.subject_id'])
      .where('d.token_hash', '=', sha256(token))
      .where('d.used_at', 'is', null)
      .where('d.expires_at', '>', now)
      .where('d.attempts', '<', MAX_DOWNLOAD_STARTS)
      .where(stillWithinGrace('d.completed_at', now))
      .executeTakeFirst(),
  );
  return row
    ? {
        language: row.language,
        tenantId: tenant.tenantId,
        subjectId: row.subject_id === null ? null : Number(row.subject_id),
      }
    : undefined;
}

/**
 * How long a link keeps working after a download was first written to its end (decision 0873):
 * the server handing the last bytes to the network is no proof they arrived, so a person whose
 * download broke at the very end can start it again, within the link's starts and days.
 */
export const DOWNLOAD_GRACE_MS = 60 * 60 * 1000;

/** No download written to its end yet, or the first one less than DOWNLOAD_GRACE_MS ago. */
function stillWithinGrace(column: 'completed_at' | 'd.completed_at', now: Date): RawBuilder<boolean> {
  const ref = sql.ref(column);
  return sql<boolean>`(${ref} is null or ${ref} > ${new Date(now.getTime() - DOWNLOAD_GRACE_MS)}::timestamptz)`;
}

/** A download was written to the end: the link keeps working for DOWNLOAD_GRACE_MS, then it is spent. */
export async function completeDownload(deps: RequestsDeps, tenantId: number, token: string): Promise<void> {
  const now = deps.kernel.clock.now();
  await deps.kernel.plain(tenantId, (tx) =>
    tx
      .updateTable('export_downloads')
      .set({ completed_at: now })
      .where('token_hash', '=', sha256(token))
      .where('completed_at', 'is', null)
      .execute(),
  );
}

/** A request from the person's own account: verified by the login, carried out at once. */
export async function createVerifiedRequest(
  deps: RequestsDeps,
  tenant: Tenant,
  subjectId: number,
  input: {
    kind: RequestKind;
    purposes?: string[];
    corrections?: unknown;
    transferTo?: string;
    /** The person's own language (the letter is written in it); else the policy's first. */
    language?: Language;
  },
): Promise<RequestStatus> {
  const { policy } = await deps.kernel.policies.current(tenant.tenantId);
  assertOffered(policy, input.kind);
  assertKnownPurposes(policy, input.purposes);
  await checkTransferInput(deps, input.kind, input.transferTo);
  // Corrections that would be refused file no request (attack A6): checked before it is stored.
  if (input.kind === 'rectification') checkCorrectionsInput(input.kind, input.corrections ?? null);
  const receipt = await insertRequest(deps, tenant, {
    actor: SELF(subjectId),
    kind: input.kind,
    channel: 'account',
    subjectId,
    language: input.language ?? policy.statement.languages[0] ?? 'nl',
    purposes: input.purposes ?? [],
    verified: { method: 'account_login' },
    scanReference: null,
    joinRecentErasure: input.kind === 'erasure',
  });
  // A second erasure joins the first: one request, one letter. The first may not have been
  // carried out (its process died, or the database went away, between filing and erasing:
  // attack S11-6); then this one carries it out. Either caller may be the one that does it.
  const request = await loadRequest(deps, tenant.tenantId, receipt.requestId);
  if (request.state === 'verified') {
    try {
      // The person acts from their own account: the audit names them (as a pseudonym), not a job.
      await fulfil(deps, tenant, request, SELF(subjectId), {
        corrections: input.corrections,
        ...(input.transferTo === undefined ? {} : { transferTo: input.transferTo }),
      });
    } catch (error) {
      // The other caller of the same erasure finished it meanwhile: that is the answer.
      const now = await loadRequest(deps, tenant.tenantId, request.request_id);
      if (input.kind !== 'erasure' || now.state !== 'fulfilled') throw error;
    }
  }
  const answered = await loadRequest(deps, tenant.tenantId, receipt.requestId);
  // Only an erasure carried out is answered as done (the portal then says "erased").
  if (input.kind === 'erasure' && answered.state !== 'fulfilled')
    throw new AppError('conflict', 'request not carried out', {
      publicMessage: `the request is ${answered.state.replaceAll('_', ' ')}`,
    });
  return present(answered);
}

/** Who carries out an account erasure that its own post left undone (decision 0701). */
const ACCOUNT_ERASURES: Actor = { kind: 'system', job: 'account-erasures' };

/** How long an account erasure is left to its own post before the job carries it out (decision 0701). */
export const ACCOUNT_ERASURE_GRACE_MS = 2 * 60 * 1000;

export interface AccountErasuresResult {
  /** Carried out by this pass: erased, fulfilled, the letter queued. */
  carriedOut: number;
  /** Carried out meanwhile by another caller (the person's retry, staff, a second run). */
  joined: number;
  /** Under a legal hold: left for the privacy officer, as the portal leaves it (decision 0415). */
  held: number;
}

/**
 * Carries out the tenant's account erasures ("erase my account") that were filed, verified by the
 * login, and left `verified` for longer than `graceMs`: their post was cut between filing and
 * erasing (attack S11-6, decision 0671) and the person did not press again. Each is carried out
 * as the person's retry does (`fulfil`): the callers meet at the request's row, so whoever comes
 * second rolls back and one erasure and one letter are made. A request that fails for another
 * reason does not stop the others; the pass then throws, naming how many failed.
 */
export async function carryOutAccountErasures(
  deps: RequestsDeps,
  tenant: Tenant,
  graceMs = ACCOUNT_ERASURE_GRACE_MS,
): Promise<AccountErasuresResult> {
  const before = new Date(deps.kernel.clock.now().getTime() - graceMs);
  const waiting = await deps.kernel.plain(tenant.tenantId, (tx) =>
    tx
      .selectFrom('rights_requests')
      .selectAll()
      .where('kind', '=', 'erasure')
      .where('channel', '=', 'account')
      .where('state', '=', 'verified')
      .where('subject_id', 'is not', null)
      .where('verified_at', '<=', before)
      .orderBy('received_at')
      .execute(),
  );
  const result: AccountErasuresResult = { carriedOut: 0, joined: 0, held: 0 };
  let failed = 0;
  for (const request of waiting) {
    // Checked first so that a held person costs one read a run, not an erasure rolled back.
    const subjectId = Number(request.subject_id);
    if ((await erasureHoldsOn(deps.kernel, deps.dataMap, tenant.tenantId, subjectId)).length > 0) {
      result.held += 1;
      continue;
    }
    try {
      await fulfil(deps, tenant, request, ACCOUNT_ERASURES, {});
      result.carriedOut += 1;
    } catch (error) {
      if (isErasureHeld(error)) {
        result.held += 1;
        continue;
      }
      const now = await loadRequest(deps, tenant.tenantId, request.request_id).catch(() => undefined);
      if (now?.state === 'fulfilled') {
        result.joined += 1;
        continue;
      }
      failed += 1;
      deps.logger.error(
        { tenantId: tenant.tenantId, requestId: request.request_id, err: describeUnexpected(error) },
        'account erasure not carried out; the next run tries again',
      );
    }
  }
  if (failed > 0) throw new Error(`${failed} account erasure(s) not carried out`);
  return result;
}

/** Who carries out the erasures requests left waiting for a contract's end (decision 1210). */
const DEFERRED_ERASURES: Actor = { kind: 'system', job: 'deferred-erasures' };

export interface DeferredErasuresResult {
  /** Erased by this pass, the request's outcome completed and the letter queued. */
  carriedOut: number;
  /** Still waiting: a contract runs, a legal claim or an open access request holds the person. */
  waiting: number;
  /** Waiting, and the person was told a new last day (a new contract, a termination). */
  toldNewDay: number;
}

/**
 * The daily pass over the tenant's deferred erasures (decision 1210). A person no hold keeps any
 * more (the day after the relation's last day, Brussels) is erased as their request asked: what a
 * legal hold keeps stays, the request's outcome gets the erasure's and the erasure letter is
 * queued, all in the erasure's transaction, which also deletes the waiting row (data map). A
 * second run, at once or beside this one, meets the person's row lock and finds them erased, so
 * one erasure and one letter are made. A person whose relation's last day moved is told the new one.
 */
export async function carryOutDeferredErasures(
  deps: RequestsDeps,
  tenant: Tenant,
): Promise<DeferredErasuresResult> {
  const { kernel } = deps;
  const tenantId = tenant.tenantId;
  const waiting = await kernel.plain(tenantId, (tx) =>
    tx.selectFrom('deferred_erasures').selectAll().orderBy('recorded_at').orderBy('request_id').execute(),
  );
  const result: DeferredErasuresResult = { carriedOut: 0, waiting: 0, toldNewDay: 0 };
  let failed = 0;
  for (const row of waiting) {
    const subjectId = Number(row.subject_id);
    const holds = await erasureHoldsOn(kernel, deps.dataMap, tenantId, subjectId);
    if (holds.length > 0) {
      result.waiting += 1;
      const contracts = holds.filter((hold) => hold.ground === 'running_contract');
      if (contracts.length > 0 && (await tellNewLastDay(deps, tenantId, row, lastDayOfHolds(contracts))))
        result.toldNewDay += 1;
      continue;
    }
    // The person's data are theirs to have first: an open access or portability request waits.
    if (await awaitsReturn(deps, tenantId, subjectId)) {
      result.waiting += 1;
      continue;
    }
    try {
      if (await eraseDeferred(deps, tenantId, row.request_id, subjectId)) result.carriedOut += 1;
    } catch (error) {
      if (isErasureHeld(error)) {
        result.waiting += 1;
        continue;
      }
      failed += 1;
      deps.logger.error(
        { tenantId, requestId: row.request_id, err: describeUnexpected(error) },
        'deferred erasure not carried out; the next run tries again',
      );
    }
  }
  if (failed > 0) throw new Error(`${failed} deferred erasure(s) not carried out`);
  return result;
}

/** Erases the person of a deferred erasure; false when another caller had erased them already. */
async function eraseDeferred(
  deps: RequestsDeps,
  tenantId: number,
  requestId: string,
  subjectId: number,
): Promise<boolean> {
  const { kernel } = deps;
  const waiting = await prepareDeferredCompletion(deps, tenantId, requestId, subjectId);
  let carriedOut = false;
  await eraseSubject(kernel, deps.dataMap, {
    tenantId,
    actor: DEFERRED_ERASURES,
    purpose: RIGHTS_PURPOSE,
    subjectId,
    requestId,
    withinErasure: async (atx, erased) => {
      // Erased meanwhile (a second run at the same moment): that run wrote the outcome and letter.
      if (erased.alreadyErased) return;
      carriedOut = true;
      await completeDeferredWithin(deps, atx, waiting, DEFERRED_ERASURES, erased);
    },
  });
  if (carriedOut && waiting.email) dispatchLetters(deps, tenantId);
  return carriedOut;
}

/** What completing a waiting erasure needs that the erasure removes: the request, the address. */
interface WaitingErasure {
  tenantId: number;
  subjectId: number;
  policy: Policy;
  request: RequestRow;
  email: string | null;
}

/** Read before the erasure: the e-mail address is erased with the person. */
async function prepareDeferredCompletion(
  deps: RequestsDeps,
  tenantId: number,
  requestId: string,
  subjectId: number,
): Promise<WaitingErasure> {
  const { policy } = await deps.kernel.policies.current(tenantId);
  const request = await loadRequest(deps, tenantId, requestId);
  const email = await contactOnFile(deps, tenantId, subjectId);
  return { tenantId, subjectId, policy, request, email };
}

/**
 * In the erasure's transaction (the person's row locked, the person just erased): the waiting
 * request's outcome gains the erasure's date and counts, every other erasure request of theirs
 * still saying "deferred" too, and the erasure letter is queued — what the job does (decision
 * 1210), whoever erased the person (decision 1251).
 */
async function completeDeferredWithin(
  deps: RequestsDeps,
  atx: AuditedTx,
  waiting: WaitingErasure,
  actor: Actor,
  erased: ErasureOutcome,
): Promise<void> {
  const { kernel } = deps;
  const { request, policy } = waiting;
  const now = kernel.clock.now();
  recordRequestChange(atx, actor, request, 'fulfil');
  const before = (request.outcome ?? {}) as Record<string, unknown>;
  await atx.tx
    .updateTable('rights_requests')
    .set({
      outcome: JSON.stringify({
        ...before,
        erasedOn: brusselsDate(now),
        erased: erased.erased,
        kept: erased.kept,
        keptSilently: erased.keptSilently,
        keyDestruction: erased.keyDestruction,
      }),
    })
    .where('request_id', '=', request.request_id)
    .execute();
  await completeWaitingErasures(atx.tx, waiting.subjectId, request.request_id, now, erased);
  const facts: LetterFacts = {
    kind: 'erasure',
    outcome: 'fulfilled',
    receivedOn: brusselsDate(request.received_at),
    dueOn: String(request.extended_due_on ?? request.due_on),
  };
  describeErasure(facts, policy, request.language, erased);
  if (waiting.email)
    await queueLetter(
      deps,
      atx.tx,
      waiting.tenantId,
      policy,
      waiting.email,
      writeLetter(policy, request.language, facts),
      'fulfilled',
    );
}

/**
 * What an erasure made outside the person's request (a staff DELETE, a minor's report) does for
 * an erasure request of theirs that waits for their contract's end (decision 1251): in the
 * erasure's transaction the request is completed as the job completes it — outcome `erasedOn`,
 * the erasure letter, the waiting row gone with the person (data map). Undefined: none waits.
 */
export interface ErasureFollowUp {
  withinErasure: (atx: AuditedTx, outcome: ErasureOutcome) => Promise<void>;
  /** After commit: sends the letter the erasure queued. */
  afterCommit: () => void;
}

export async function followUpErasure(
  deps: RequestsDeps,
  tenantId: number,
  subjectId: number,
  actor: Actor,
): Promise<ErasureFollowUp | undefined> {
  const found = await findDeferredErasure(deps, tenantId, subjectId);
  if (!found) return undefined;
  const waiting = await prepareDeferredCompletion(deps, tenantId, found.requestId, subjectId);
  let queued = false;
  return {
    withinErasure: async (atx, erased) => {
      // Erased before (the job, a second call): that erasure completed the request.
      if (erased.alreadyErased) return;
      await completeDeferredWithin(deps, atx, waiting, actor, erased);
      queued = waiting.email !== null;
    },
    afterCommit: () => {
      if (queued) dispatchLetters(deps, tenantId);
    },
  };
}

/**
 * Completes, in the erasure's transaction, the outcome of every other erasure request of the
 * person still saying it waits (a second request answered "sameAs", or a second waiting row made
 * before that existed): each gains the erasure's date and counts, so none says "deferred" after
 * the person is erased (decision 1210). Their letters are not repeated: the person gets one.
 */
async function completeWaitingErasures(
  tx: Tx,
  subjectId: number,
  carriedOutBy: string,
  now: Date,
  erased: Pick<ErasureOutcome, 'erased' | 'kept' | 'keptSilently' | 'keyDestruction'>,
): Promise<void> {
  const completion = JSON.stringify({
    erasedOn: brusselsDate(now),
    erased: erased.erased,
    kept: erased.kept,
    keptSilently: erased.keptSilently,
    keyDestruction: erased.keyDestruction,
  });
  await tx
    .updateTable('rights_requests')
    .set({ outcome: sql<string>`outcome || ${completion}::jsonb` })
    .where('subject_id', '=', subjectId)
    .where('kind', '=', 'erasure')
    .where('state', '=', 'fulfilled')
    .where('request_id', '!=', carriedOutBy)
    .where(sql<boolean>`outcome ? 'erasureDeferred' and not outcome ? 'erasedOn'`)
    .execute();
}

/**
 * When the relation's last day is no longer the one the person was told (a new contract, a
 * termination of one without an end date), records the new day and tells them, once: the row is
 * locked and compared again inside the transaction that queues the letter.
 */
async function tellNewLastDay(
  deps: RequestsDeps,
  tenantId: number,
  row: { request_id: string; subject_id: number; last_day: string | null },
  lastDay: string | null,
): Promise<boolean> {
  if (row.last_day === lastDay) return false;
  const { kernel } = deps;
  const { policy } = await kernel.policies.current(tenantId);
  const request = await loadRequest(deps, tenantId, row.request_id);
  const email = await contactOnFile(deps, tenantId, Number(row.subject_id));
  const told = await kernel.transact(tenantId, async (atx) => {
    const locked = await atx.tx
      .selectFrom('deferred_erasures')
      .select('last_day')
      .where('request_id', '=', row.request_id)
      .forUpdate()
      .executeTakeFirst();
    if (!locked || locked.last_day === lastDay) return false;
    await atx.tx
      .updateTable('deferred_erasures')
      .set({ last_day: lastDay })
      .where('request_id', '=', row.request_id)
      .execute();
    recordRequestChange(atx, DEFERRED_ERASURES, request, 'defer');
    if (email)
      await queueDeferralLetter(deps, atx.tx, tenantId, policy, email, request, { lastDay, changed: true });
    return true;
  });
  if (told && email) dispatchLetters(deps, tenantId);
  return told;
}

/**
 * Whether the person has an access or portability request not yet answered, or answered with a
 * download link still unused and valid: their data are given to them before they are erased.
 */
async function awaitsReturn(deps: RequestsDeps, tenantId: number, subjectId: number): Promise<boolean> {
  const now = deps.kernel.clock.now();
  const found = await deps.kernel.plain(tenantId, (tx) =>
    tx
      .selectFrom('rights_requests as r')
      .select('r.request_id')
      .where('r.subject_id', '=', subjectId)
      .where('r.kind', 'in', ['access', 'portability'])
      .where((eb) =>
        eb.or([
          eb('r.state', 'in', OPEN_STATES),
          eb.exists(
            eb
              .selectFrom('export_downloads as d')
              .select('d.request_id')
              .whereRef('d.request_id', '=', 'r.request_id')
              .where('d.used_at', 'is', null)
              .where('d.completed_at', 'is', null)
              .where('d.expires_at', '>', now),
          ),
        ]),
      )
      .executeTakeFirst(),
  );
  return found !== undefined;
}

/** What the staff member is about to do with a request, for the letter preview. */
export const letterPreviewSchema = z.object({
  outcome: z.enum(['extended', 'rejected', 'fulfilled']),
  reason: z.string().max(500).optional(),
  until: z.string().max(10).optional(),
});

/**
 * The letter as the person will get it (their language, the policy's controller and authority),
 * before the staff member extends, rejects or fulfils. Changes nothing and sends nothing; a
 * download link, made only when an access request is fulfilled, shows as a placeholder.
 */
export async function previewLetter(
  deps: RequestsDeps,
  context: StaffContext,
  requestId: string,
  input: z.infer<typeof letterPreviewSchema>,
): Promise<{ language: Language; subject: string; text: string; delivery: LetterDelivery }> {
  const request = await loadRequest(deps, context.tenantId, requestId);
  await authorizeStaff(deps, context, request.subject_id ? [request.subject_id] : []);
  const { policy } = await deps.kernel.policies.current(context.tenantId);
  const person =
    request.subject_id === null ? undefined : await personOnFile(deps, request.tenant_id, request.subject_id);
  const base = {
    kind: request.kind,
    receivedOn: brusselsDate(request.received_at),
    dueOn: String(request.extended_due_on ?? request.due_on),
  };
  const delivery: LetterDelivery =
    request.subject_id === null ? 'status_page' : person?.email ? 'email' : person?.post ? 'post' : 'none';
  const facts: LetterFacts =
    input.outcome === 'extended'
      ? { ...base, outcome: 'extended', dueOn: input.until ?? base.dueOn, reason: input.reason ?? '' }
      : input.outcome === 'rejected'
        ? { ...base, outcome: 'rejected', reason: input.reason ?? '' }
        : request.kind === 'access' || request.kind === 'portability'
          ? delivery === 'post'
            ? // The data go with the letter by post (decision 1250).
              { ...base, outcome: 'data_enclosed' }
            : { ...base, outcome: 'download_ready', link: LINK_PLACEHOLDER }
          : { ...base, outcome: 'fulfilled' };
  const letter = writeLetter(policy, request.language, facts);
  // A printed letter says to whom, when and about which request (attack S24-2).
  const text =
    delivery === 'post' && person?.post
      ? `${writePostalHeading(request.language, person.post, {
          date: brusselsDate(deps.kernel.clock.now()),
          reference: request.request_id,
          subject: letter.subject,
        })}\n\n${letter.text}`
      : letter.text;
  return { language: request.language, subject: letter.subject, text, delivery };
}

/**
 * How the person gets a letter: by e-mail, by post (staff), only on the request's status page, or
 * not at all until staff record an e-mail or postal address (`none`, decision 1192).
 */
type LetterDelivery = 'email' | 'post' | 'status_page' | 'none';

const LINK_PLACEHOLDER = '[single-use download link, made when the request is fulfilled]';

/**
 * The audit log over HTTP (issue #20): a person's trail for the privacy officer, and the chain's
 * verification for the admin and the privacy officer. docs/decisions/0330.
 */
import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { actorOf, requireStaff, staffOf } from '../../http/auth.js';
import { ID_CURSOR, pageQuery } from '../../http/pagination.js';
import { checkDeclaredPurpose } from '../../http/purpose.js';
import { AppError } from '../../platform/errors.js';
import { authorize } from '../gate/access.js';
import type { Kernel } from '../kernel.js';
import type { LocalizedText } from '../policy/policy.schema.js';
import { instantText } from './audit.canonical.js';
import { rightsPurposeOf } from './audit.trail.js';

/** Roles that may run the verification (the CLI's `kluis audit verify` is the operator's). */
/** Roles that may verify the chain (decision 0330); the me answer names the screen for them (0845). */
export const VERIFY_ROLES: ReadonlySet<string> = new Set(['admin', 'privacy_officer']);
/** As the CLI: entries older than this must be covered by a checkpoint outside the database. */
const ANCHOR_GRACE_MS = 60 * 60_000;

const id = z.coerce.number().int().positive().max(Number.MAX_SAFE_INTEGER);

const trailEntrySchema = z.object({
  seq: z.number().int(),
  at: z.string(),
  actor: z.object({
    kind: z.enum(['staff', 'subject', 'system']),
    id: z.string().describe('staff id, job name, or self (the person) / other (another person)'),
  }),
  role: z.string().nullable(),
  purpose: z.string().nullable(),
  action: z.string(),
  categories: z.array(z.string()),
  records: z
    .number()
    .int()
    .nullable()
    .describe(
      "how many of this person's records the entry counted; null when the entry names several people (its count is the batch's)",
    ),
  batchSize: z
    .number()
    .int()
    .describe('how many people the one decision named: 1 for this person alone, more for a list or a batch'),
  decision: z.enum(['allowed', 'denied']),
  reason: z.string().nullable(),
});

const labelMap = z.record(z.string(), z.object({ nl: z.string(), fr: z.string(), en: z.string() }));

const verificationSchema = z.object({
  ok: z.boolean(),
  verifiedAt: z.string(),
  entries: z.number().int().describe('entries found intact (before the first bad one when broken)'),
  checkpoints: z.number().int().nullable(),
  anchors: z.number().int().nullable(),
  firstBadSeq: z.number().int().nullable(),
  problem: z.string().nullable(),
  message: z.string().nullable(),
  pendingCopies: z
    .array(z.number().int())
    .nullable()
    .describe(
      'pending entries (their audit_pending numbers) that are copies of entries already chained: never chained, the chain stays intact, the owner may delete them (decision 0686); at most the 100 lowest numbers, pendingCopyCount counts them all (decision 0791); [] when none, null when the chain is broken',
    ),
  pendingCopyCount: z
    .number()
    .int()
    .nullable()
    .describe(
      'how many pending entries are copies of chained entries; 0 when none, null when the chain is broken',
    ),
  displacedPending: z
    .array(
      z.object({
        pendingId: z.number().int().describe('the genuine entry, its (first) audit_pending number'),
        seq: z.number().int().describe('the chained entry not written by Kluis that carries its nonce'),
        rows: z
          .number()
          .int()
          .describe(
            'how many signed audit_pending rows carry its nonce: the entry and identical copies of it, one record (decision 0768)',
          ),
        message: z
          .string()
          .describe('what the server log and kluis audit verify say of it, in the same words'),
      }),
    )
    .describe(
      'pending entries that are the genuine record of what they say, displaced by a chained entry not written by Kluis that carries their nonce (attack S13-4, decision 0760): never chained, never to be deleted; [] when none (always when ok)',
    ),
  setBacks: z
    .array(
      z.object({
        at: z.string().describe('when the restore set the chain back'),
        seq: z.number().int().describe('the entry the chain was restored to'),
        earlierSeq: z
          .number()
          .int()
          .describe(
            'the highest entry the earlier chain had anchored outside the database before the restore',
          ),
        message: z.string().describe('what kluis audit verify says of it, in the same words'),
      }),
    )
    .describe(
      'restores that set the chain back, each signed in the key store (attack S25-5, decision 1270): checkpoints signed before one that lie beyond its entry, or do not match the chain, went with the restore and are not a break; [] when none',
    ),
});

export function registerAuditRoutes(app: FastifyInstance, kernel: Kernel): void {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  typed.get(
    '/api/v1/people/:id/audit',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: 'Who looked at this person, when and why: the audit entries naming them, newest first',
        description:
          "Under the policy's purpose for rights requests only (the privacy officer's); another declared purpose is refused (403 purpose_not_allowed). The read is itself recorded in the audit log (action audit.read). Staff are named by staff id and role.",
        tags: ['audit'],
        params: z.strictObject({ id }),
        querystring: z.object({ ...pageQuery(), cursor: ID_CURSOR.optional() }),
        response: {
          200: z.object({
            items: z.array(trailEntrySchema),
            nextCursor: z.string().nullable(),
            labels: z
              .object({ roles: labelMap, purposes: labelMap, categories: labelMap })
              .describe("the policy's labels of the roles, purposes and categories on this page"),
          }),
        },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      const { policy } = await kernel.policies.current(staff.tenantId);
      const rights = rightsPurposeOf(policy);
      if (rights === undefined)
        throw new AppError('purpose_not_allowed', 'policy has no rights purpose', {
          publicMessage: 'the policy declares no purpose for rights requests',
        });
      await checkDeclaredPurpose(kernel, request, staff.tenantId, { purpose: rights });
      const context = {
        tenantId: staff.tenantId,
        actor: actorOf(staff),
        purpose: rights,
        requestId: request.id,
      };
      // Pending entries are chained first, on their own connection, before the transaction
      // below takes one (decision 0583).
      await kernel.auditLog.chainPending(staff.tenantId);
      const page = await kernel.transact(staff.tenantId, async (atx) => {
        const grant = await authorize(kernel, atx, context, 'read', [], [request.params.id]);
        return kernel.auditLog.trail(atx, grant, {
          limit: request.query.limit,
          ...(request.query.cursor === undefined ? {} : { beforeSeq: Number(request.query.cursor) }),
        });
      });
      const labelsOf = (keys: Iterable<string | null>, table: Record<string, { label: LocalizedText }>) =>
        Object.fromEntries(
          [...new Set(keys)].flatMap((key) =>
            key !== null && Object.hasOwn(table, key) ? [[key, table[key]?.label]] : [],
          ),
        ) as Record<string, LocalizedText>;
      return {
        items: page.items.map((entry) => ({ ...entry, at: instantText(entry.at) })),
        nextCursor: page.nextBeforeSeq === null ? null : String(page.nextBeforeSeq),
        labels: {
          roles: labelsOf(
            page.items.map((entry) => entry.role),
            policy.roles,
          ),
          purposes: labelsOf(
            page.items.map((entry) => entry.purpose),
            policy.purposes,
          ),
          categories: labelsOf(
            page.items.flatMap((entry) => entry.categories),
            policy.categories,
          ),
        },
      };
    },
  );

  typed.get(
    '/api/v1/audit/verify',
    {
      onRequest: requireStaff(kernel),
      schema: {
        summary: "Recompute the tenant's audit chain and name the first entry that does not hold",
        description:
          'What `kluis audit verify` does, for this tenant (admin, privacy officer). Changes nothing: entries are re-hashed, their signatures and the signed checkpoints (in the database, the key store and the anchor file) checked; entries older than an hour must be covered by a checkpoint outside the database.',
        tags: ['audit'],
        response: { 200: verificationSchema },
      },
    },
    async (request) => {
      const staff = staffOf(request);
      if (!VERIFY_ROLES.has(staff.role))
        throw new AppError('forbidden', 'role may not verify the audit log', {
          publicMessage: 'only admins and privacy officers may verify the audit log',
        });
      const now = kernel.clock.now();
      const result = await kernel.auditLog.verify(staff.tenantId, {
        anchorsRequiredBefore: new Date(now.getTime() - ANCHOR_GRACE_MS),
      });
      const verifiedAt = now.toISOString();
      const setBacks = (result.setBacks ?? []).map((setBack) => ({
        ...setBack,
        at: setBack.at.toISOString(),
      }));
      return result.ok
        ? {
            ok: true,
            verifiedAt,
            entries: result.entries,
            checkpoints: result.checkpoints,
            anchors: result.anchors ?? null,
            firstBadSeq: null,
            problem: null,
            message: null,
            pendingCopies: result.pendingCopies ?? [],
            pendingCopyCount: result.pendingCopyCount ?? 0,
            displacedPending: [],
            setBacks,
          }
        : {
            ok: false,
            verifiedAt,
            entries: result.entries,
            checkpoints: null,
            anchors: null,
            firstBadSeq: result.firstBadSeq,
            problem: result.problem,
            message: result.message,
            pendingCopies: null,
            pendingCopyCount: null,
            displacedPending: result.displacedPending ?? [],
            setBacks,
          };
    },
  );
}

import { oneLineText } from '../../platform/one-line.js';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, notFoundError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import {
  deleteAttachment as deleteAttachmentRow,
  insertAttachment,
  selectAttachmentContent,
  selectAttachmentOwner,
  selectAttachments,
  type AttachmentRecord,
} from './attachment.repository.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import {
  assertDossierTextAllowed,
  authorizeDossier,
  dossierEvent,
  shreddedError,
  staffIdOf,
  type DossierContext,
} from './dossier.service.js';
import { withRevealRule, type RevealContext } from './reveal.service.js';

/** A small attachment: at most 1 MiB of content (decision 0125). */
export const ATTACHMENT_MAX_BYTES = 1024 * 1024;

/** The content types a dossier keeps, each with how its first bytes must look. */
const ALLOWED_TYPES: Record<string, (content: Buffer) => boolean> = {
  'application/pdf': (c) => c.subarray(0, 5).toString('latin1') === '%PDF-',
  'image/png': (c) => c.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])),
  'image/jpeg': (c) => c[0] === 0xff && c[1] === 0xd8 && c[2] === 0xff,
  // Config backups, exported settings: UTF-8 text without NUL bytes.
  'text/plain': (c) => !c.includes(0) && Buffer.from(c.toString('utf8'), 'utf8').equals(c),
};
export const ATTACHMENT_TYPES = Object.keys(ALLOWED_TYPES) as [string, ...string[]];

export const attachmentInputSchema = z
  .object({
    fileName: oneLineText(200).regex(/^[^/\\]+$/, 'a file name without slashes'),
    contentType: z.enum(ATTACHMENT_TYPES),
    /** The file, Base64. */
    content: z.base64().max(Math.ceil((ATTACHMENT_MAX_BYTES * 4) / 3) + 4),
    /** Secret attachments are revealed only under the reveal rule (reason, fresh second factor). */
    secret: z.boolean().default(false),
    note: z.string().trim().min(1).max(2000).nullable().default(null),
  })
  .strict();

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field}: ${message}`, {
    publicMessage: `${field}: ${message}`,
    details: { issues: [{ path: `body/${field}`, message }] },
  });
}

/**
 * Adds a small attachment to a customer's dossier (kluis.dossier.asset, and .credential when
 * secret; write): size and content type checked, content under the dossier key.
 */
export async function addAttachment(
  kernel: Kernel,
  context: DossierContext,
  subjectId: number,
  input: unknown,
): Promise<AttachmentRecord> {
  const data = parseInput(attachmentInputSchema, input);
  const content = Buffer.from(data.content, 'base64');
  if (content.length === 0 || content.length > ATTACHMENT_MAX_BYTES)
    throw invalid('content', `1 byte to ${ATTACHMENT_MAX_BYTES / 1024} KiB`);
  if (!ALLOWED_TYPES[data.contentType]?.(content))
    throw invalid('content', `is not a ${data.contentType} file`);
  await assertDossierTextAllowed(kernel, context, 'asset', { notes: data.note }, 'note');
  const categories = data.secret ? [C.asset, C.credential] : [C.asset];
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'write', categories, [subjectId]);
    const attachmentId = await insertAttachment(atx.tx, grant, {
      subjectId,
      details: { fileName: data.fileName, contentType: data.contentType, note: data.note },
      content,
      isSecret: data.secret,
      staffId: staffIdOf(context.actor),
      at,
    });
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.attachment.add',
        subjectId,
        category: data.secret ? C.credential : C.asset,
        reason: `${data.secret ? 'secret ' : ''}${data.contentType} attachment added (${content.length} bytes)`,
      }),
    );
    const [record] = await selectAttachments(atx.tx, grant, { attachmentId });
    if (!record) throw new AppError('internal', 'inserted attachment not found');
    return record;
  });
}

/** A customer's attachments: names, types, sizes, whether secret (kluis.dossier.asset, read). */
export async function listAttachments(
  kernel: Kernel,
  context: DossierContext,
  subjectId: number,
): Promise<AttachmentRecord[]> {
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'read', [C.asset], [subjectId]);
    const records = await selectAttachments(atx.tx, grant, { subjectId });
    if (records.some((record) => record.details === null)) throw shreddedError();
    return records;
  });
}

export interface AttachmentFile {
  fileName: string;
  contentType: string;
  content: Buffer;
}

async function locate(kernel: Kernel, tenantId: number, attachmentId: number) {
  const found = await kernel.transact(tenantId, (atx) => selectAttachmentOwner(atx.tx, attachmentId));
  if (!found) throw notFoundError('attachment');
  return found;
}

/**
 * Downloads an attachment that is not secret (kluis.dossier.asset, read), audited. A secret one
 * is refused here: it is revealed with `revealAttachment`, under the reveal rule.
 */
export async function downloadAttachment(
  kernel: Kernel,
  context: DossierContext,
  attachmentId: number,
): Promise<AttachmentFile> {
  const { subjectId, isSecret } = await locate(kernel, context.tenantId, attachmentId);
  if (isSecret)
    throw new AppError('step_up_required', 'secret attachment', {
      publicMessage:
        'this attachment is secret: reveal it with a reason and a fresh second factor (POST …/reveal)',
    });
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'read', [C.asset], [subjectId]);
    const [record] = await selectAttachments(atx.tx, grant, { attachmentId });
    const content = await selectAttachmentContent(atx.tx, grant, {
      attachmentId,
      subjectId,
      isSecret: false,
    });
    if (!record?.details || !content) throw shreddedError();
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.attachment.download',
        subjectId,
        category: C.asset,
        reason: 'attachment downloaded',
      }),
    );
    return { fileName: record.details.fileName, contentType: record.details.contentType, content };
  });
}

/** Reveals a secret attachment under the reveal rule (technician, typed reason, fresh second factor). */
export async function revealAttachment(
  kernel: Kernel,
  context: RevealContext,
  attachmentId: number,
  input: { reason?: string | undefined },
): Promise<AttachmentFile> {
  const { subjectId, isSecret } = await locate(kernel, context.tenantId, attachmentId);
  return withRevealRule(
    kernel,
    context,
    // The file name and type are asset data; the content of a secret one is credential data.
    { subjectId, categories: [C.asset, C.credential] },
    'dossier.reveal',
    input.reason,
    async (_secret, reason, held) => {
      const [record] = await selectAttachments(held.atx.tx, held.grant, { attachmentId });
      const content = await selectAttachmentContent(held.atx.tx, held.grant, {
        attachmentId,
        subjectId,
        isSecret,
      });
      if (!record?.details || !content) throw shreddedError();
      return {
        value: { fileName: record.details.fileName, contentType: record.details.contentType, content },
        audit: `${isSecret ? 'secret ' : ''}attachment revealed: ${reason}`,
      };
    },
  );
}

/** Deletes an attachment (kluis.dossier.asset, write), audited; a second delete is a 404. */
export async function deleteAttachment(
  kernel: Kernel,
  context: DossierContext,
  attachmentId: number,
): Promise<void> {
  const { subjectId } = await locate(kernel, context.tenantId, attachmentId);
  await kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'write', [C.asset], [subjectId]);
    if (!(await deleteAttachmentRow(atx.tx, grant, { attachmentId, subjectId })))
      throw notFoundError('attachment');
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.attachment.delete',
        subjectId,
        category: C.asset,
        reason: 'attachment deleted',
      }),
    );
  });
}

import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError, notFoundError } from '../../platform/errors.js';
import { parseInput } from '../../platform/validation.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import {
  selectAttachmentContent,
  selectAttachmentOwner,
  selectAttachments,
} from './attachment.repository.js';
import type { AttachmentFile } from './attachment.service.js';
import { selectItemOwner, selectSecret, type SecretField } from './dossier.repository.js';
import {
  assertDossierKept,
  dossierEvent,
  dossierPurposes,
  getDossier,
  shreddedError,
  type Dossier,
  type DossierContext,
} from './dossier.service.js';

/** The customer signed in to the privacy portal (the requests module's portal session). */
export interface OwnDossierSession {
  tenantId: number;
  subjectId: number;
}

export const ownRevealInputSchema = z.object({ field: z.enum(['password', 'totpSeed']) }).strict();

/** The customer acts on their own dossier under the purpose it is kept for (Voxtra: technical_dossier). */
async function ownContext(kernel: Kernel, session: OwnDossierSession): Promise<DossierContext> {
  await assertDossierKept(kernel, session.tenantId);
  const { policy } = await kernel.policies.current(session.tenantId);
  const purpose = dossierPurposes(policy)[0];
  if (purpose === undefined) throw new AppError('internal', 'dossier purpose vanished');
  return {
    tenantId: session.tenantId,
    actor: { kind: 'subject', subjectId: session.subjectId },
    purpose,
  };
}

/**
 * The customer's own technical dossier, secrets masked (kluis.dossier.*, read, as the person):
 * what the privacy portal shows them (VX-11 access).
 */
export async function getOwnDossier(kernel: Kernel, session: OwnDossierSession): Promise<Dossier> {
  return getDossier(kernel, await ownContext(kernel, session), session.subjectId);
}

/**
 * Reveals one of the customer's own secrets (kluis.dossier.credential, read, as the person) after
 * they logged in to the privacy portal: the gate lets a person read their own data only; audited
 * as `dossier.reveal` in their name. Another person's credential is a 404, like an unknown one.
 */
export async function revealOwnSecret(
  kernel: Kernel,
  session: OwnDossierSession,
  credentialId: number,
  input: z.input<typeof ownRevealInputSchema>,
): Promise<{ field: SecretField; value: string }> {
  const { field } = parseInput(ownRevealInputSchema, input);
  const context = await ownContext(kernel, session);
  return kernel.transact(session.tenantId, async (atx) => {
    const owner = await selectItemOwner(atx.tx, 'credential', credentialId);
    if (owner !== session.subjectId) throw notFoundError('credential');
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: [C.credential],
      subjectIds: [session.subjectId],
    });
    const secret = await selectSecret(atx.tx, grant, credentialId, session.subjectId, field);
    if (secret.kind === 'shredded') throw shreddedError();
    if (secret.kind === 'absent')
      throw notFoundError(
        field === 'password' ? 'password on this credential' : 'TOTP seed on this credential',
      );
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.reveal',
        subjectId: session.subjectId,
        category: C.credential,
        reason: `${field === 'password' ? 'password' : 'TOTP seed'} revealed by the customer in the privacy portal`,
      }),
    );
    return { field, value: secret.value };
  });
}

/**
 * Downloads one of the customer's own attachments after they logged in to the privacy portal
 * (kluis.dossier.asset, and .credential for a secret one; read, as the person). A secret one goes
 * through the same own-reveal step as a password (decision 0123): a deliberate POST of the signed-in
 * person, the content in that answer only, audited as `dossier.reveal` in their name; another one
 * as `dossier.attachment.download`. Another person's attachment is a 404, like an unknown one.
 */
export async function downloadOwnAttachment(
  kernel: Kernel,
  session: OwnDossierSession,
  attachmentId: number,
): Promise<AttachmentFile> {
  const context = await ownContext(kernel, session);
  return kernel.transact(session.tenantId, async (atx) => {
    const owner = await selectAttachmentOwner(atx.tx, attachmentId);
    if (owner?.subjectId !== session.subjectId) throw notFoundError('attachment');
    const category = owner.isSecret ? C.credential : C.asset;
    const grant = await kernel.gate.authorize(atx, context.actor, {
      purpose: context.purpose,
      action: 'read',
      categories: owner.isSecret ? [C.asset, C.credential] : [C.asset],
      subjectIds: [session.subjectId],
    });
    const [record] = await selectAttachments(atx.tx, grant, { attachmentId });
    const content = await selectAttachmentContent(atx.tx, grant, {
      attachmentId,
      subjectId: session.subjectId,
      isSecret: owner.isSecret,
    });
    if (!record?.details || !content) throw shreddedError();
    atx.audit.record(
      dossierEvent(context, {
        action: owner.isSecret ? 'dossier.reveal' : 'dossier.attachment.download',
        subjectId: session.subjectId,
        category,
        reason: `${owner.isSecret ? 'secret attachment revealed' : 'attachment downloaded'} by the customer in the privacy portal`,
      }),
    );
    return { fileName: record.details.fileName, contentType: record.details.contentType, content };
  });
}

import { sql } from 'kysely';
import type { Grant } from '../../kernel/gate/gate.js';
import type { Tx } from '../../platform/db.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';

const SCOPE = 'dossier' as const;
const TABLE = 'dossier_attachments' as const;
const ref = (column: string, rowId: number) => ({ table: TABLE, column, rowId: String(rowId) });

export interface AttachmentDetails {
  fileName: string;
  contentType: string;
  note: string | null;
}

export interface AttachmentRecord {
  attachmentId: number;
  subjectId: number;
  /** null when the dossier key no longer exists. */
  details: AttachmentDetails | null;
  isSecret: boolean;
  sizeBytes: number;
  createdAt: Date;
}

/** Inserts an attachment; its content is sealed under the dossier key (secret: credential category). */
export async function insertAttachment(
  tx: Tx,
  grant: Grant,
  row: {
    subjectId: number;
    details: AttachmentDetails;
    content: Buffer;
    isSecret: boolean;
    staffId: number | null;
    at: Date;
  },
): Promise<number> {
  grant.assertWritable();
  grant.assertCovers(C.asset, row.subjectId);
  if (row.isSecret) grant.assertCovers(C.credential, row.subjectId);
  const { attachment_id: id } = await tx
    .insertInto(TABLE)
    .values({
      tenant_id: grant.tenantId,
      subject_id: row.subjectId,
      details_enc: Buffer.alloc(0),
      size_bytes: row.content.length,
      created_by_staff_id: row.staffId,
      created_at: row.at,
      updated_at: row.at,
    })
    .returning('attachment_id')
    .executeTakeFirstOrThrow();
  const column = row.isSecret ? 'secret_content_enc' : 'content_enc';
  const category = row.isSecret ? C.credential : C.asset;
  await tx
    .updateTable(TABLE)
    .set({
      details_enc: await grant.encrypt(
        C.asset,
        row.subjectId,
        ref('details_enc', id),
        JSON.stringify(row.details),
        SCOPE,
      ),
      [column]: await grant.encrypt(
        category,
        row.subjectId,
        ref(column, id),
        row.content.toString('base64'),
        SCOPE,
      ),
    })
    .where('attachment_id', '=', id)
    .execute();
  return id;
}

/** A subject's attachments, or one of them: file name, type and size, never the content. */
export async function selectAttachments(
  tx: Tx,
  grant: Grant,
  filter: { subjectId: number } | { attachmentId: number },
): Promise<AttachmentRecord[]> {
  let query = tx
    .selectFrom(TABLE)
    .select(['attachment_id', 'subject_id', 'details_enc', 'size_bytes', 'created_at'])
    .select(sql<boolean>`secret_content_enc is not null`.as('is_secret'))
    .orderBy('attachment_id');
  query =
    'subjectId' in filter
      ? query.where('subject_id', '=', filter.subjectId)
      : query.where('attachment_id', '=', filter.attachmentId);
  const records: AttachmentRecord[] = [];
  for (const row of await query.execute()) {
    const text = await grant.decrypt(
      C.asset,
      row.subject_id,
      ref('details_enc', row.attachment_id),
      row.details_enc,
      SCOPE,
    );
    records.push({
      attachmentId: row.attachment_id,
      subjectId: row.subject_id,
      // Written only by this repository from a validated shape.
      details: text === null ? null : (JSON.parse(text) as AttachmentDetails),
      isSecret: row.is_secret,
      sizeBytes: row.size_bytes,
      createdAt: row.created_at,
    });
  }
  return records;
}

/** The owner of an attachment and whether it is secret (nothing personal read). */
export async function selectAttachmentOwner(
  tx: Tx,
  attachmentId: number,
): Promise<{ subjectId: number; isSecret: boolean } | undefined> {
  const row = await tx
    .selectFrom(TABLE)
    .select('subject_id')
    .select(sql<boolean>`secret_content_enc is not null`.as('is_secret'))
    .where('attachment_id', '=', attachmentId)
    .executeTakeFirst();
  return row ? { subjectId: row.subject_id, isSecret: row.is_secret } : undefined;
}

/** An attachment's content, decrypted (null when the dossier key is gone). */
export async function selectAttachmentContent(
  tx: Tx,
  grant: Grant,
  attachment: { attachmentId: number; subjectId: number; isSecret: boolean },
): Promise<Buffer | null> {
  const column = attachment.isSecret ? 'secret_content_enc' : 'content_enc';
  const row = await tx
    .selectFrom(TABLE)
    .select(['content_enc', 'secret_content_enc'])
    .where('attachment_id', '=', attachment.attachmentId)
    .where('subject_id', '=', attachment.subjectId)
    .executeTakeFirst();
  const ciphertext = row?.[column];
  if (!ciphertext) return null;
  const category = attachment.isSecret ? C.credential : C.asset;
  const text = await grant.decrypt(
    category,
    attachment.subjectId,
    ref(column, attachment.attachmentId),
    ciphertext,
    SCOPE,
  );
  return text === null ? null : Buffer.from(text, 'base64');
}

export async function deleteAttachment(
  tx: Tx,
  grant: Grant,
  attachment: { attachmentId: number; subjectId: number },
): Promise<boolean> {
  grant.assertWritable();
  grant.assertCovers(C.asset, attachment.subjectId);
  const result = await tx
    .deleteFrom(TABLE)
    .where('attachment_id', '=', attachment.attachmentId)
    .where('subject_id', '=', attachment.subjectId)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

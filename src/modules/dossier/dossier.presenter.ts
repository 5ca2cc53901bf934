import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import type { AttachmentRecord } from './attachment.repository.js';
import type { ItemKind, ItemRecord } from './dossier.repository.js';
import type { Dossier } from './dossier.service.js';

/** The fields that may leave, listed one by one (the serializer drops anything else). */

/** What stands in for a secret everywhere but a reveal. */
export const MASK = '********';

const nullable = z.string().nullable();

/** Per kind: the id's name in the API and the fields of its details that may leave. */
const ITEM_FIELDS = {
  asset: {
    idName: 'assetId',
    details: {
      kind: z.string(),
      brand: nullable,
      model: nullable,
      serial: nullable,
      location: nullable,
      hostname: nullable,
      ipAddress: nullable,
      purchasedOn: nullable,
      warrantyUntil: nullable,
      notes: nullable,
    },
  },
  credential: {
    idName: 'credentialId',
    details: {
      system: z.string(),
      url: nullable,
      username: nullable,
      /** Always the mask (or null when none is stored): revealing is POST …/reveal. */
      password: z.literal(MASK).nullable(),
      hasTotp: z.boolean(),
      notes: nullable,
    },
  },
  fact: {
    idName: 'factId',
    details: {
      kind: z.enum(['network', 'licence']),
      label: z.string(),
      value: nullable,
      seats: z.number().int().nullable(),
      expiresOn: nullable,
      notes: nullable,
    },
  },
} as const;

function itemSchema<K extends ItemKind>(kind: K) {
  const { idName, details } = ITEM_FIELDS[kind];
  return z.object({
    [idName]: z.number().int(),
    subjectId: z.number().int(),
    ...details,
    createdAt: z.string(),
    updatedAt: z.string(),
  } as unknown as { [P in (typeof ITEM_FIELDS)[K]['idName']]: z.ZodNumber } & {
    subjectId: z.ZodNumber;
    createdAt: z.ZodString;
    updatedAt: z.ZodString;
  } & (typeof ITEM_FIELDS)[K]['details']);
}

export const ITEM_SCHEMAS = {
  asset: itemSchema('asset'),
  credential: itemSchema('credential'),
  fact: itemSchema('fact'),
};
export type PresentedItem<K extends ItemKind> = z.infer<(typeof ITEM_SCHEMAS)[K]>;
export const assetSchema = ITEM_SCHEMAS.asset;

/** An attachment as it may leave: name, type, size, whether secret; never the content. */
export const attachmentSchema = z.object({
  attachmentId: z.number().int(),
  subjectId: z.number().int(),
  fileName: z.string(),
  contentType: z.string(),
  sizeBytes: z.number().int(),
  secret: z.boolean(),
  note: z.string().nullable(),
  createdAt: z.string(),
});

export function presentAttachment(record: AttachmentRecord): z.infer<typeof attachmentSchema> {
  if (record.details === null) throw new AppError('subject_erased', 'dossier key destroyed');
  return {
    attachmentId: record.attachmentId,
    subjectId: record.subjectId,
    fileName: record.details.fileName,
    contentType: record.details.contentType,
    sizeBytes: record.sizeBytes,
    secret: record.isSecret,
    note: record.details.note,
    createdAt: record.createdAt.toISOString(),
  };
}

export const dossierSchema = z.object({
  subjectId: z.number().int(),
  assets: z.array(ITEM_SCHEMAS.asset),
  credentials: z.array(ITEM_SCHEMAS.credential),
  facts: z.array(ITEM_SCHEMAS.fact),
  /** Small attachments (issue 17): the content of a secret one only by a reveal. */
  attachments: z.array(attachmentSchema),
});

/** An item as it may leave: its allow-listed details, the secrets masked. */
export function presentItem<K extends ItemKind>(item: ItemRecord<K>): PresentedItem<K> {
  // The service refuses shredded rows before presenting; this is the presenter's own guard.
  if (item.details === null) throw new AppError('subject_erased', 'dossier key destroyed');
  const { idName, details } = ITEM_FIELDS[item.kind];
  const source: Record<string, unknown> = {
    ...item.details,
    password: item.hasPassword ? MASK : null,
    hasTotp: item.hasTotp,
  };
  const picked = Object.fromEntries(Object.keys(details).map((key) => [key, source[key] ?? null]));
  // The keys are exactly the schema's (ITEM_FIELDS); the response schema checks the values.
  return {
    [idName]: item.id,
    subjectId: item.subjectId,
    ...picked,
    createdAt: item.createdAt.toISOString(),
    updatedAt: item.updatedAt.toISOString(),
  } as PresentedItem<K>;
}

export function presentDossier(dossier: Dossier): z.infer<typeof dossierSchema> {
  return {
    subjectId: dossier.subjectId,
    assets: dossier.assets.map((item) => presentItem(item)),
    credentials: dossier.credentials.map((item) => presentItem(item)),
    facts: dossier.facts.map((item) => presentItem(item)),
    attachments: dossier.attachments.map(presentAttachment),
  };
}

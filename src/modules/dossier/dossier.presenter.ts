import { z } from 'zod';
import { AppError } from '../../platform/errors.js';
import type { AssetRecord, CredentialRecord, FactRecord } from './dossier.repository.js';
import type { Dossier } from './dossier.service.js';

/** The fields that may leave, listed one by one (the serializer drops anything else). */

/** What stands in for a secret everywhere but a reveal. */
export const MASK = '********';

export const assetSchema = z.object({
  assetId: z.number().int(),
  subjectId: z.number().int(),
  kind: z.string(),
  brand: z.string().nullable(),
  model: z.string().nullable(),
  serial: z.string().nullable(),
  location: z.string().nullable(),
  hostname: z.string().nullable(),
  ipAddress: z.string().nullable(),
  purchasedOn: z.string().nullable(),
  warrantyUntil: z.string().nullable(),
  notes: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const credentialSchema = z.object({
  credentialId: z.number().int(),
  subjectId: z.number().int(),
  system: z.string(),
  url: z.string().nullable(),
  username: z.string().nullable(),
  /** Always the mask (or null when none is stored): revealing is POST …/reveal. */
  password: z.literal(MASK).nullable(),
  hasTotp: z.boolean(),
  notes: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const factSchema = z.object({
  factId: z.number().int(),
  subjectId: z.number().int(),
  kind: z.enum(['network', 'licence']),
  label: z.string(),
  value: z.string().nullable(),
  seats: z.number().int().nullable(),
  expiresOn: z.string().nullable(),
  notes: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});

export const dossierSchema = z.object({
  subjectId: z.number().int(),
  assets: z.array(assetSchema),
  credentials: z.array(credentialSchema),
  facts: z.array(factSchema),
});

function opened<T>(details: T | null): T {
  // The service refuses shredded rows before presenting; this is the presenter's own guard.
  if (details === null) throw new AppError('subject_erased', 'dossier key destroyed');
  return details;
}

export function presentAsset(asset: AssetRecord): z.infer<typeof assetSchema> {
  const d = opened(asset.details);
  return {
    assetId: asset.assetId,
    subjectId: asset.subjectId,
    kind: d.kind,
    brand: d.brand,
    model: d.model,
    serial: d.serial,
    location: d.location,
    hostname: d.hostname,
    ipAddress: d.ipAddress,
    purchasedOn: d.purchasedOn,
    warrantyUntil: d.warrantyUntil,
    notes: d.notes,
    createdAt: asset.createdAt.toISOString(),
    updatedAt: asset.updatedAt.toISOString(),
  };
}

export function presentCredential(credential: CredentialRecord): z.infer<typeof credentialSchema> {
  const d = opened(credential.details);
  return {
    credentialId: credential.credentialId,
    subjectId: credential.subjectId,
    system: d.system,
    url: d.url,
    username: d.username,
    password: credential.hasPassword ? MASK : null,
    hasTotp: credential.hasTotp,
    notes: d.notes,
    createdAt: credential.createdAt.toISOString(),
    updatedAt: credential.updatedAt.toISOString(),
  };
}

export function presentFact(fact: FactRecord): z.infer<typeof factSchema> {
  const d = opened(fact.details);
  return {
    factId: fact.factId,
    subjectId: fact.subjectId,
    kind: d.kind,
    label: d.label,
    value: d.value,
    seats: d.seats,
    expiresOn: d.expiresOn,
    notes: d.notes,
    createdAt: fact.createdAt.toISOString(),
    updatedAt: fact.updatedAt.toISOString(),
  };
}

export function presentDossier(dossier: Dossier): z.infer<typeof dossierSchema> {
  return {
    subjectId: dossier.subjectId,
    assets: dossier.assets.map(presentAsset),
    credentials: dossier.credentials.map(presentCredential),
    facts: dossier.facts.map(presentFact),
  };
}

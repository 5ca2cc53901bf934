import { z } from 'zod';
import type { AuditEvent, AuditedTx } from '../../kernel/audit/index.js';
import { assertFreeTextAllowed, tableMap } from '../../kernel/datamap/free-text.js';
import { auditActor, type AccessAction, type Actor, type Grant } from '../../kernel/gate/gate.js';
import { findPurpose } from '../../kernel/policy/index.js';
import type { Kernel } from '../../kernel/kernel.js';
import type { Policy } from '../../kernel/policy/policy.schema.js';
import { AppError, notFoundError, type UnreadableRecord } from '../../platform/errors.js';
import { reachTestHook } from '../../platform/test-hooks.js';
import { parseInput } from '../../platform/validation.js';
import { selectAttachments, type AttachmentRecord } from './attachment.repository.js';
import { DOSSIER_CATEGORIES as C, dossierDataMap } from './datamap.js';
import {
  deleteItem as deleteItemRow,
  findAssetOwners,
  insertItem,
  selectItemOwner,
  updateItem as updateItemRow,
  ITEM_TABLES,
  selectItems,
  type DetailsOf,
  type ItemKind,
  type ItemRecord,
  type SecretValues,
} from './dossier.repository.js';

/** Who acts, for what: plain data, never an HTTP request. */
export interface DossierContext {
  tenantId: number;
  actor: Actor;
  purpose: string;
  requestId?: string;
}

const text = (max: number) => z.string().trim().min(1).max(max);
const optionalText = (max: number) => text(max).nullable().default(null);
const isoDate = z.iso.date('expected a date as YYYY-MM-DD').nullable().default(null);

export const createAssetInputSchema = z
  .object({
    kind: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,39}$/, 'a lowercase key such as printer, laptop, router')
      .default('other'),
    brand: optionalText(100),
    model: optionalText(100),
    serial: optionalText(100),
    location: optionalText(200),
    hostname: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9]([A-Za-z0-9.-]{0,252})$/, 'a host name (letters, digits, dots, dashes)')
      .nullable()
      .default(null),
    ipAddress: z.union([z.ipv4(), z.ipv6()]).nullable().default(null),
    purchasedOn: isoDate,
    warrantyUntil: isoDate,
    notes: optionalText(2000),
  })
  .strict();
export type CreateAssetInput = z.input<typeof createAssetInputSchema>;

const base32 = z
  .string()
  .transform((value) => value.replace(/[\s-]/g, '').toUpperCase())
  .pipe(z.string().regex(/^[A-Z2-7]{16,128}=*$/, 'a Base32 TOTP seed (16-128 characters)'));

export const createCredentialInputSchema = z
  .object({
    system: text(200),
    url: z.url().max(2000).nullable().default(null),
    username: optionalText(200),
    password: z.string().min(1).max(1000).nullable().default(null),
    totpSeed: base32.nullable().default(null),
    notes: optionalText(2000),
  })
  .strict();
export type CreateCredentialInput = z.input<typeof createCredentialInputSchema>;

export const createFactInputSchema = z
  .object({
    kind: z.enum(['network', 'licence']),
    label: text(200),
    value: optionalText(1000),
    seats: z.number().int().min(1).max(1_000_000).nullable().default(null),
    expiresOn: isoDate,
    notes: optionalText(2000),
  })
  .strict();
export type CreateFactInput = z.input<typeof createFactInputSchema>;

/** The create schema of each item kind (the API's body). */
export const ITEM_INPUT = {
  asset: createAssetInputSchema,
  credential: createCredentialInputSchema,
  fact: createFactInputSchema,
} as const;

/** The same fields as the create schema, each optional and without its default: a PATCH body. */
function patchSchemaOf<S extends z.ZodRawShape>(schema: z.ZodObject<S>) {
  const shape = Object.fromEntries(
    Object.entries(schema.shape).map(([key, field]) => [
      key,
      (field instanceof z.ZodDefault ? (field.unwrap() as z.ZodType) : (field as z.ZodType)).optional(),
    ]),
  );
  return z.object(shape).strict();
}
export const ITEM_PATCH = {
  asset: patchSchemaOf(createAssetInputSchema),
  credential: patchSchemaOf(createCredentialInputSchema),
  fact: patchSchemaOf(createFactInputSchema),
} as const;

export interface Dossier {
  subjectId: number;
  assets: Array<ItemRecord<'asset'>>;
  credentials: Array<ItemRecord<'credential'>>;
  facts: Array<ItemRecord<'fact'>>;
  /** Names, types and sizes; the content is read only by a download or a reveal. */
  attachments: AttachmentRecord[];
}

/** The purposes of a policy that cover the whole dossier (Voxtra: technical_dossier). */
export function dossierPurposes(policy: Policy): string[] {
  return Object.entries(policy.purposes)
    .filter(
      ([, purpose]) => purpose.categories.includes(C.asset) && purpose.categories.includes(C.credential),
    )
    .map(([key]) => key);
}

/**
 * A tenant whose policy keeps no technical dossier (VoiceKing: no purpose covers the dossier's
 * categories) answers a clear refusal on every dossier route.
 */
export async function assertDossierKept(kernel: Kernel, tenantId: number): Promise<void> {
  const { policy } = await kernel.policies.current(tenantId);
  if (dossierPurposes(policy).length === 0) {
    throw new AppError('purpose_not_allowed', 'the policy keeps no technical dossier', {
      publicMessage:
        "this tenant's privacy policy keeps no technical dossier (no purpose covers kluis.dossier.*)",
    });
  }
}

export function staffIdOf(actor: Actor): number | null {
  return actor.kind === 'staff' ? actor.staffId : null;
}

export function auditRole(actor: Actor): string | null {
  return actor.kind === 'staff' ? actor.role : actor.kind === 'subject' ? 'data_subject' : null;
}

export function requestIdOf(context: DossierContext): { requestId?: string } {
  return context.requestId ? { requestId: context.requestId } : {};
}

export async function authorizeDossier(
  kernel: Kernel,
  atx: AuditedTx,
  context: DossierContext,
  action: AccessAction,
  categories: readonly string[],
  subjectIds: readonly number[],
): Promise<Grant> {
  return kernel.gate.authorize(atx, context.actor, {
    purpose: context.purpose,
    action,
    categories,
    subjectIds,
    ...requestIdOf(context),
  });
}

/** A restored copy of erased rows decrypts to nothing: say so rather than show empty records. */
export function shreddedError(): AppError {
  return new AppError('subject_erased', 'dossier key destroyed', {
    publicMessage: 'this technical dossier was erased: its key no longer exists (VX-7)',
  });
}

/** A validated input split into the item's details and (credentials only) its secrets. */
function splitInput<K extends ItemKind>(
  kind: K,
  data: z.output<(typeof ITEM_INPUT)[ItemKind]>,
): { details: DetailsOf[K]; secrets: SecretValues } {
  if (kind !== 'credential') return { details: data as DetailsOf[K], secrets: {} };
  const { password, totpSeed, ...details } = data as z.output<typeof createCredentialInputSchema>;
  return { details: details as DetailsOf[K], secrets: { password, totpSeed } };
}

/**
 * Adds an item to a customer's dossier (its kind's category, write): an asset, a credential
 * (password and TOTP seed are secrets) or a network fact / licence; every field under the
 * dossier key.
 */
export async function createItem<K extends ItemKind>(
  kernel: Kernel,
  context: DossierContext,
  kind: K,
  subjectId: number,
  input: unknown,
): Promise<ItemRecord<K>> {
  const schema: z.ZodType<z.output<(typeof ITEM_INPUT)[ItemKind]>> = ITEM_INPUT[kind];
  const { details, secrets } = splitInput(kind, parseInput(schema, input));
  await assertDossierTextAllowed(kernel, context, kind, details);
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const category = ITEM_TABLES[kind].category;
    const grant = await authorizeDossier(kernel, atx, context, 'write', [category], [subjectId]);
    const id = await insertItem(atx.tx, grant, kind, {
      subjectId,
      details,
      secrets,
      staffId: staffIdOf(context.actor),
      at,
    });
    const [record] = await selectItems(atx.tx, grant, kind, { ids: [id] });
    if (!record) throw new AppError('internal', 'inserted dossier item not found');
    return record;
  });
}

/**
 * A customer's dossier (kluis.dossier.asset and kluis.dossier.credential, read): assets, network
 * facts, licences and credentials with their secrets masked (revealing one is its own use case).
 */
export async function getDossier(
  kernel: Kernel,
  context: DossierContext,
  subjectId: number,
): Promise<Dossier> {
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'read', [C.asset, C.credential], [subjectId]);
    const dossier = {
      subjectId,
      assets: await selectItems(atx.tx, grant, 'asset', { subjectId }),
      credentials: await selectItems(atx.tx, grant, 'credential', { subjectId }),
      facts: await selectItems(atx.tx, grant, 'fact', { subjectId }),
      attachments: await selectAttachments(atx.tx, grant, { subjectId }),
    };
    const rows = [...dossier.assets, ...dossier.credentials, ...dossier.facts, ...dossier.attachments];
    if (rows.some((row) => row.details === null)) throw shreddedError();
    return dossier;
  });
}

/**
 * Assets whose hostname or serial number matches exactly, across customers (blind indexes; no
 * table is decrypted to search). One gate decision for the search, one for the customers found.
 * An asset whose details do not open with this key store is left out and named in `unreadable`
 * (attack S23B-3, decision 1150).
 */
export async function searchAssets(
  kernel: Kernel,
  context: DossierContext,
  search: { hostname?: string | undefined; serial?: string | undefined },
): Promise<{ items: Array<ItemRecord<'asset'>>; unreadable: UnreadableRecord[] }> {
  if (search.hostname === undefined && search.serial === undefined)
    throw new AppError('validation_failed', 'no search term', {
      publicMessage: 'give hostname or serial (exact match)',
    });
  return kernel.transact(context.tenantId, async (atx) => {
    const searchGrant = await authorizeDossier(kernel, atx, context, 'read', [C.asset], []);
    const found = await findAssetOwners(atx.tx, searchGrant, search);
    const unreadable: UnreadableRecord[] = [];
    if (found.length === 0) return { items: [], unreadable };
    const subjectIds = [...new Set(found.map((row) => row.subjectId))];
    const grant = await authorizeDossier(kernel, atx, context, 'read', [C.asset], subjectIds);
    const ids = { ids: found.map((row) => row.assetId) };
    const records = await selectItems(atx.tx, grant, 'asset', ids, unreadable);
    if (records.some((row) => row.details === null)) throw shreddedError();
    return { items: records, unreadable };
  });
}

export { notFoundError };

const DOSSIER_MAPS = {
  asset: tableMap(dossierDataMap, 'dossier_assets'),
  credential: tableMap(dossierDataMap, 'dossier_credentials'),
  fact: tableMap(dossierDataMap, 'dossier_facts'),
};

/**
 * VK-16: the notes of a dossier item are free text typed by staff (data map `freeText`, level
 * `all`), scanned before they are stored like every other note; the other fields have strict
 * formats or name things, not people.
 */
export async function assertDossierTextAllowed(
  kernel: Kernel,
  context: DossierContext,
  kind: ItemKind,
  details: { notes?: string | null | undefined },
  field = 'notes',
): Promise<void> {
  const { policy } = await kernel.policies.current(context.tenantId);
  assertFreeTextAllowed(DOSSIER_MAPS[kind], [{ column: 'details_enc', field, value: details.notes }], {
    allowSpecial: findPurpose(policy, context.purpose)?.consent?.explicit === true,
  });
}

/** The item's owner, or a 404 naming the kind (another tenant's ids are not seen at all). */
async function ownerOf(atx: AuditedTx, kind: ItemKind, id: number): Promise<number> {
  const subjectId = await selectItemOwner(atx.tx, kind, id);
  if (subjectId === undefined) throw notFoundError(ITEM_NAMES[kind]);
  return subjectId;
}

const ITEM_NAMES: Record<ItemKind, string> = {
  asset: 'asset',
  credential: 'credential',
  fact: 'network fact or licence',
};

/** An audit entry of a dossier use case on one subject's items, in the acting person's name. */
export function dossierEvent(
  context: DossierContext,
  event: {
    action: AuditEvent['action'];
    subjectId: number;
    category: string;
    decision?: 'allowed' | 'denied';
    reason: string;
  },
): AuditEvent {
  return {
    actor: auditActor(context.actor),
    role: auditRole(context.actor),
    purpose: context.purpose,
    action: event.action,
    subjectIds: [event.subjectId],
    categories: [event.category],
    records: 1,
    decision: event.decision ?? 'allowed',
    reason: event.reason,
    ...requestIdOf(context),
  };
}

/**
 * Changes some fields of one dossier item (its kind's category, write). Fields left out keep
 * their value, `null` clears one; a credential's password or TOTP seed given here is encrypted
 * under the dossier key, one left out keeps its ciphertext (an edit reveals nothing). The whole
 * item is sealed again under the dossier key, and the change is audited with the names of the
 * fields changed, never their values.
 */
export async function updateItem<K extends ItemKind>(
  kernel: Kernel,
  context: DossierContext,
  kind: K,
  id: number,
  input: unknown,
): Promise<ItemRecord<K>> {
  const patchSchema: z.ZodType<Record<string, unknown>> = ITEM_PATCH[kind];
  const patch = parseInput(patchSchema, input);
  const fields = Object.keys(patch).filter((key) => patch[key] !== undefined);
  if (fields.length === 0)
    throw new AppError('validation_failed', 'empty patch', {
      publicMessage: 'give at least one field to change',
    });
  await assertDossierTextAllowed(kernel, context, kind, patch);
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const subjectId = await ownerOf(atx, kind, id);
    const category = ITEM_TABLES[kind].category;
    const grant = await authorizeDossier(kernel, atx, context, 'write', [category], [subjectId]);
    const [current] = await selectItems(atx.tx, grant, kind, { ids: [id] });
    if (!current) throw notFoundError(ITEM_NAMES[kind]);
    if (current.details === null) throw shreddedError();
    // The merged item must still be a valid item of its kind (e.g. a system name stays required).
    const { password, totpSeed, ...changes } = patch;
    const schema: z.ZodType<z.output<(typeof ITEM_INPUT)[ItemKind]>> = ITEM_INPUT[kind];
    const { details } = splitInput(kind, parseInput(schema, { ...current.details, ...changes }));
    const secrets: SecretValues = {};
    if (password !== undefined) secrets.password = password as string | null;
    if (totpSeed !== undefined) secrets.totpSeed = totpSeed as string | null;
    await updateItemRow(atx.tx, grant, kind, { id, subjectId, details, secrets, at });
    await reachTestHook('dossier.item-written');
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.update',
        subjectId,
        category,
        reason: `${ITEM_NAMES[kind]} changed: ${fields.join(', ')}`,
      }),
    );
    const [record] = await selectItems(atx.tx, grant, kind, { ids: [id] });
    if (!record) throw new AppError('internal', 'updated dossier item not found');
    return record;
  });
}

/**
 * Deletes one dossier item (its kind's category, write); a credential's one-time links go with
 * it. Audited; a second delete finds nothing (404).
 */
export async function deleteItem(
  kernel: Kernel,
  context: DossierContext,
  kind: ItemKind,
  id: number,
): Promise<void> {
  await kernel.transact(context.tenantId, async (atx) => {
    const subjectId = await ownerOf(atx, kind, id);
    const category = ITEM_TABLES[kind].category;
    const grant = await authorizeDossier(kernel, atx, context, 'write', [category], [subjectId]);
    if (!(await deleteItemRow(atx.tx, grant, kind, { id, subjectId }))) throw notFoundError(ITEM_NAMES[kind]);
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.delete',
        subjectId,
        category,
        reason: `${ITEM_NAMES[kind]} deleted`,
      }),
    );
  });
}

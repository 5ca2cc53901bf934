import { parse } from 'csv-parse/sync';
import { stringify } from 'csv-stringify/sync';
import { z } from 'zod';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { describeIssues } from '../../platform/validation.js';
import { selectAttachments } from './attachment.repository.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import {
  insertItem,
  ITEM_TABLES,
  selectItems,
  selectSecret,
  type ItemKind,
  type ItemRecord,
} from './dossier.repository.js';
import {
  assertDossierTextAllowed,
  authorizeDossier,
  dossierEvent,
  ITEM_INPUT,
  shreddedError,
  staffIdOf,
  type DossierContext,
} from './dossier.service.js';
import { withRevealRule, type RevealContext } from './reveal.service.js';

export const IMPORT_FORMATS = ['itflow', 'hudu', 'itglue'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
/** What a file holds: one tool export each (licences are network facts of kind licence). */
export const IMPORT_KINDS = ['credentials', 'assets', 'licences'] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

/** The item fields a file's columns fill, per kind (the API's field names). */
const FIELDS = {
  credentials: ['system', 'url', 'username', 'password', 'totpSeed', 'notes'],
  assets: [
    'kind',
    'brand',
    'model',
    'serial',
    'location',
    'hostname',
    'ipAddress',
    'purchasedOn',
    'warrantyUntil',
    'notes',
  ],
  licences: ['label', 'value', 'seats', 'expiresOn', 'notes'],
} as const;
type Field<K extends ImportKind> = (typeof FIELDS)[K][number];
type Layout<K extends ImportKind> = Record<Field<K>, readonly string[]>;

/**
 * Each tool's export columns per kind (header names, matched case-insensitively; the first is
 * what the export writes). Written from the tools' documented export layouts; decisions 0093, 0124.
 */
export const IMPORT_LAYOUTS: { [K in ImportKind]: Record<ImportFormat, Layout<K>> } = {
  credentials: {
    // ITFlow: client → Credentials → Export (logins).
    itflow: {
      system: ['Name'],
      url: ['URI', 'url'],
      username: ['Username'],
      password: ['Password'],
      totpSeed: ['TOTP', 'otp secret'],
      notes: ['Description', 'note'],
    },
    // Hudu: company → Passwords → Export CSV.
    hudu: {
      system: ['name'],
      url: ['url'],
      username: ['username'],
      password: ['password'],
      totpSeed: ['otp_secret', 'otp secret'],
      notes: ['description'],
    },
    // IT Glue: organisation → Passwords → Export.
    itglue: {
      system: ['name'],
      url: ['url', 'resource_url'],
      username: ['username'],
      password: ['password'],
      totpSeed: ['otp_secret'],
      notes: ['notes'],
    },
  },
  assets: {
    // ITFlow: client → Assets → Export.
    itflow: {
      kind: ['Type'],
      brand: ['Make'],
      model: ['Model'],
      serial: ['Serial Number', 'Serial'],
      location: ['Location', 'Physical Location'],
      hostname: ['Name'],
      ipAddress: ['IP', 'IP Address'],
      purchasedOn: ['Purchase Date'],
      warrantyUntil: ['Warranty Expire'],
      notes: ['Notes', 'Description'],
    },
    // Hudu: company → Assets → Export CSV (the primary fields every asset layout has).
    hudu: {
      kind: ['asset_layout', 'asset_layout_name'],
      brand: ['primary_manufacturer'],
      model: ['primary_model'],
      serial: ['primary_serial'],
      location: ['location'],
      hostname: ['name'],
      ipAddress: ['ip_address', 'primary_ip'],
      purchasedOn: ['purchase_date'],
      warrantyUntil: ['warranty_expiration', 'warranty_expires_at'],
      notes: ['notes'],
    },
    // IT Glue: organisation → Configurations → Export.
    itglue: {
      kind: ['configuration_type', 'configuration_type_name'],
      brand: ['manufacturer', 'manufacturer_name'],
      model: ['model', 'model_name'],
      serial: ['serial_number'],
      location: ['location', 'location_name'],
      hostname: ['hostname', 'name'],
      ipAddress: ['primary_ip'],
      purchasedOn: ['purchased_at'],
      warrantyUntil: ['warranty_expires_at'],
      notes: ['notes'],
    },
  },
  licences: {
    // ITFlow: client → Licenses (software) → Export.
    itflow: {
      label: ['Name'],
      value: ['Key', 'License Key', 'Version'],
      seats: ['Seats'],
      expiresOn: ['Expire', 'Expiration'],
      notes: ['Notes', 'Description'],
    },
    // Hudu: a "Software Licenses" asset layout, exported as CSV.
    hudu: {
      label: ['name'],
      value: ['license_key', 'licence_key'],
      seats: ['seats'],
      expiresOn: ['expiration_date', 'renewal_date'],
      notes: ['notes'],
    },
    // IT Glue: the "Licensing" flexible asset, exported as CSV.
    itglue: {
      label: ['name'],
      value: ['license_key', 'licence_key'],
      seats: ['seats'],
      expiresOn: ['renewal_date', 'expires_at'],
      notes: ['notes'],
    },
  },
};

/** The dossier item each kind of file fills. */
const ITEM_KIND: Record<ImportKind, ItemKind> = {
  credentials: 'credential',
  assets: 'asset',
  licences: 'fact',
};

const MAX_ROWS = 5000;

function invalid(message: string): AppError {
  return new AppError('validation_failed', message, { publicMessage: message });
}

/** A tool's asset type ("Network Printer") as our lowercase key (network_printer). */
function assetKindOf(value: string | null): string {
  const key = (value ?? '')
    .toLowerCase()
    .normalize('NFKD')
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^[_0-9]+|_+$/g, '')
    .slice(0, 40);
  return key === '' ? 'other' : key;
}

/** A tool's date ("2024-03-01", "2024-03-01 00:00:00", "2024-03-01T00:00:00Z") as YYYY-MM-DD. */
function dateOf(value: string | null): string | null {
  return value === null ? null : (/^(\d{4}-\d{2}-\d{2})(?:[ T].*)?$/.exec(value)?.[1] ?? value);
}

/** One row's cells as the input of the item kind's create schema. */
function inputOf(kind: ImportKind, cell: (field: string) => string | null): Record<string, unknown> {
  switch (kind) {
    case 'credentials':
      return Object.fromEntries(FIELDS.credentials.map((field) => [field, cell(field)]));
    case 'assets':
      return {
        ...Object.fromEntries(FIELDS.assets.map((field) => [field, cell(field)])),
        kind: assetKindOf(cell('kind')),
        purchasedOn: dateOf(cell('purchasedOn')),
        warrantyUntil: dateOf(cell('warrantyUntil')),
      };
    case 'licences': {
      const seats = cell('seats');
      return {
        kind: 'licence',
        label: cell('label'),
        value: cell('value'),
        seats: seats === null ? null : /^\d+$/.test(seats) ? Number(seats) : seats,
        expiresOn: dateOf(cell('expiresOn')),
        notes: cell('notes'),
      };
    }
  }
}

/**
 * Imports one tool's export (credentials, assets or licences) into one customer's dossier (the
 * kind's category, write): every row or none. A bad row is a `validation_failed` naming its line
 * and column, never a value; notes are scanned (VK-16).
 */
export async function importItems(
  kernel: Kernel,
  context: DossierContext,
  subjectId: number,
  options: { format: ImportFormat; kind: ImportKind },
  csv: string,
): Promise<{ imported: number }> {
  const { format, kind } = options;
  const layout = IMPORT_LAYOUTS[kind][format] as Record<string, readonly string[]>;
  let rows: string[][];
  try {
    rows = parse(csv, { bom: true, skip_empty_lines: true, relax_column_count: true });
  } catch {
    throw invalid('the file is not valid CSV');
  }
  const [header, ...body] = rows;
  if (!header) throw invalid('the file is empty');
  if (body.length > MAX_ROWS) throw invalid(`at most ${MAX_ROWS} rows per file`);
  const names = header.map((name) => name.trim().toLowerCase());
  // The layout's first header that the file has wins (e.g. IT Glue's hostname before its name).
  const columnOf = (field: string): number =>
    (layout[field] ?? [])
      .map((candidate) => names.indexOf(candidate.toLowerCase()))
      .find((index) => index >= 0) ?? -1;
  const required = kind === 'credentials' ? 'system' : kind === 'licences' ? 'label' : undefined;
  if (required !== undefined && columnOf(required) < 0)
    throw invalid(
      `line 1: no ${(layout[required] ?? []).join(' / ')} column for the ${format} ${kind} layout`,
    );
  const itemKind = ITEM_KIND[kind];
  const schema: z.ZodType<Record<string, unknown>> = ITEM_INPUT[itemKind];
  const items: Array<Record<string, unknown>> = [];
  for (const [index, row] of body.entries()) {
    const cell = (field: string): string | null => {
      const column = columnOf(field);
      const value = column < 0 ? undefined : row[column]?.trim();
      return value ? value : null;
    };
    const parsed = schema.safeParse(inputOf(kind, cell));
    if (!parsed.success) throw invalid(`line ${index + 2}: ${describeIssues(parsed.error)}`);
    await assertDossierTextAllowed(kernel, context, itemKind, parsed.data, `line ${index + 2}: notes`);
    items.push(parsed.data);
  }
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const category = ITEM_TABLES[itemKind].category;
    const grant = await authorizeDossier(kernel, atx, context, 'write', [category], [subjectId]);
    for (const data of items) {
      const { password, totpSeed, ...details } = data;
      await insertItem(atx.tx, grant, itemKind, {
        subjectId,
        details: details as never,
        secrets:
          itemKind === 'credential'
            ? { password: password as string | null, totpSeed: totpSeed as string | null }
            : {},
        staffId: staffIdOf(context.actor),
        at,
      });
    }
    return { imported: items.length };
  });
}

/** What an export may hold: the importable kinds, and the list of attachments (decision 0211). */
export const EXPORT_KINDS = [...IMPORT_KINDS, 'attachments'] as const;

/** The attachment list's columns (no tool imports attachments from CSV; one layout for all). */
const ATTACHMENT_COLUMNS = ['File Name', 'Content Type', 'Size (bytes)', 'Secret', 'Note', 'Created'];

export const exportInputSchema = z
  .object({
    kind: z.enum(EXPORT_KINDS),
    format: z.enum(IMPORT_FORMATS),
    /** Credentials only: fill the password and TOTP columns (the reveal rule applies). */
    withSecrets: z.boolean().default(false),
    reason: z.string().max(1000).optional(),
  })
  .strict();

/** A cell a spreadsheet must not run as a formula; secrets are written as they are. */
const defused = (value: string): string => (/^[=+\-@\t\r]/.test(value) ? `'${value}` : value);

/**
 * Exports one kind of a customer's dossier as CSV in a tool's import layout (the first header of
 * each field), so a provider can move out. Credentials leave without their secrets unless asked
 * for, and then only under the reveal rule (technician, typed reason, fresh second factor),
 * audited as `dossier.export` with the reason.
 */
export async function exportItems(
  kernel: Kernel,
  context: RevealContext,
  subjectId: number,
  input: z.input<typeof exportInputSchema>,
): Promise<string> {
  const options = exportInputSchema.parse(input);
  if (options.kind === 'attachments') return exportAttachments(kernel, context, subjectId, options.format);
  const kind = options.kind;
  const itemKind = ITEM_KIND[kind];
  const layout = IMPORT_LAYOUTS[kind][options.format] as Record<string, readonly string[]>;
  const fields = Object.keys(layout);
  const toCsv = async (
    records: ItemRecord[],
    secretOf?: (id: number, field: 'password' | 'totpSeed') => Promise<string | null>,
  ) => {
    const rows: string[][] = [fields.map((field) => layout[field]?.[0] ?? field)];
    for (const record of records) {
      if (record.details === null) throw shreddedError();
      const details = record.details as unknown as Record<string, unknown>;
      if (kind === 'licences' && details.kind !== 'licence') continue;
      const row: string[] = [];
      for (const field of fields) {
        if (field === 'password' || field === 'totpSeed') {
          row.push((await secretOf?.(record.id, field)) ?? '');
          continue;
        }
        const value = details[field];
        row.push(typeof value === 'string' ? defused(value) : typeof value === 'number' ? String(value) : '');
      }
      rows.push(row);
    }
    return stringify(rows, { record_delimiter: 'windows' });
  };
  const audit = (withSecrets: boolean, count: number, reason?: string) =>
    `${options.kind} exported as ${options.format} CSV (${count})` +
    (withSecrets ? ` with secrets: ${reason ?? ''}` : '');

  if (!options.withSecrets || kind !== 'credentials') {
    return kernel.transact(context.tenantId, async (atx) => {
      const category = ITEM_TABLES[itemKind].category;
      const grant = await authorizeDossier(kernel, atx, context, 'read', [category], [subjectId]);
      const records = await selectItems(atx.tx, grant, itemKind, { subjectId });
      const csv = await toCsv(records);
      atx.audit.record(
        dossierEvent(context, {
          action: 'dossier.export',
          subjectId,
          category,
          reason: audit(false, records.length),
        }),
      );
      return csv;
    });
  }
  return withRevealRule(
    kernel,
    context,
    { subjectId },
    'dossier.export',
    options.reason,
    async (_secret, reason, held) => {
      const records = await selectItems(held.atx.tx, held.grant, 'credential', { subjectId });
      const csv = await toCsv(records, async (id, field) => {
        const found = await selectSecret(held.atx.tx, held.grant, id, subjectId, field);
        if (found.kind === 'shredded') throw shreddedError();
        return found.kind === 'value' ? found.value : null;
      });
      return { value: csv, audit: audit(true, records.length, reason) };
    },
  );
}

/**
 * The list of a customer's attachments as CSV (kluis.dossier.asset, read): name, type, size,
 * whether secret, note, date; never the content, which leaves one file at a time by a download
 * (or, when secret, a reveal under the reveal rule). Audited as `dossier.export`.
 */
async function exportAttachments(
  kernel: Kernel,
  context: RevealContext,
  subjectId: number,
  format: ImportFormat,
): Promise<string> {
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'read', [C.asset], [subjectId]);
    const records = await selectAttachments(atx.tx, grant, { subjectId });
    const rows: string[][] = [ATTACHMENT_COLUMNS];
    for (const record of records) {
      if (record.details === null) throw shreddedError();
      rows.push([
        defused(record.details.fileName),
        record.details.contentType,
        String(record.sizeBytes),
        record.isSecret ? 'yes' : 'no',
        defused(record.details.note ?? ''),
        record.createdAt.toISOString(),
      ]);
    }
    atx.audit.record(
      dossierEvent(context, {
        action: 'dossier.export',
        subjectId,
        category: C.asset,
        reason: `attachments exported as ${format} CSV (${records.length})`,
      }),
    );
    return stringify(rows, { record_delimiter: 'windows' });
  });
}

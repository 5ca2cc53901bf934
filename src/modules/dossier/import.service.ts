import { parse } from 'csv-parse/sync';
import type { Kernel } from '../../kernel/kernel.js';
import { AppError } from '../../platform/errors.js';
import { describeIssues } from '../../platform/validation.js';
import { DOSSIER_CATEGORIES as C } from './datamap.js';
import { insertItem } from './dossier.repository.js';
import {
  assertDossierTextAllowed,
  authorizeDossier,
  createCredentialInputSchema,
  staffIdOf,
  type DossierContext,
} from './dossier.service.js';

export const IMPORT_FORMATS = ['itflow', 'hudu', 'itglue'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];

type Field = 'system' | 'url' | 'username' | 'password' | 'totpSeed' | 'notes';

/**
 * The password-export columns of each tool (header names, matched case-insensitively), mapped to
 * a credential. Written from the tools' documented export layouts; decision 0093.
 */
export const IMPORT_LAYOUTS: Record<ImportFormat, Record<Field, readonly string[]>> = {
  // ITFlow: client → Credentials → Export (logins).
  itflow: {
    system: ['name'],
    url: ['uri', 'url'],
    username: ['username'],
    password: ['password'],
    totpSeed: ['totp', 'otp secret'],
    notes: ['description', 'note'],
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
};

const MAX_ROWS = 5000;

/**
 * Imports a tool's password export into one customer's dossier (kluis.dossier.credential, write):
 * every row or none. A bad row is a `validation_failed` naming its line and column, never a value.
 */
export async function importCredentials(
  kernel: Kernel,
  context: DossierContext,
  subjectId: number,
  format: ImportFormat,
  csv: string,
): Promise<{ imported: number }> {
  const layout = IMPORT_LAYOUTS[format];
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
  const columnOf = (field: Field): number => names.findIndex((name) => layout[field].includes(name));
  const columns = Object.fromEntries(
    (Object.keys(layout) as Field[]).map((field) => [field, columnOf(field)]),
  ) as Record<Field, number>;
  if (columns.system < 0)
    throw invalid(`line 1: no ${layout.system.join(' / ')} column for the ${format} layout`);
  const credentials = body.map((row, index) => {
    const cell = (field: Field): string | null => {
      const value = columns[field] < 0 ? undefined : row[columns[field]]?.trim();
      return value ? value : null;
    };
    const parsed = createCredentialInputSchema.safeParse({
      system: cell('system') ?? '',
      url: cell('url'),
      username: cell('username'),
      password: cell('password'),
      totpSeed: cell('totpSeed'),
      notes: cell('notes'),
    });
    if (!parsed.success) throw invalid(`line ${index + 2}: ${describeIssues(parsed.error)}`);
    return parsed.data;
  });
  for (const [index, data] of credentials.entries())
    await assertDossierTextAllowed(kernel, context, 'credential', data, `line ${index + 2}: notes`);
  const at = kernel.clock.now();
  return kernel.transact(context.tenantId, async (atx) => {
    const grant = await authorizeDossier(kernel, atx, context, 'write', [C.credential], [subjectId]);
    for (const data of credentials) {
      const { password, totpSeed, ...details } = data;
      await insertItem(atx.tx, grant, 'credential', {
        subjectId,
        details,
        secrets: { password, totpSeed },
        staffId: staffIdOf(context.actor),
        at,
      });
    }
    return { imported: credentials.length };
  });
}

function invalid(message: string): AppError {
  return new AppError('validation_failed', message, { publicMessage: message });
}

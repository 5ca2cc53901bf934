import { AppError } from '../../platform/errors.js';
import { listSensitiveKinds, scanForSensitiveData } from '../identifiers/sensitive-scan.js';
import type { FreeTextScan, TableDataMap } from './datamap.js';

export interface FreeTextValue {
  /** The column the text is stored in (its table's data map says how it is scanned). */
  column: string;
  /** The name the caller knows the field by (API field), used in the refusal. */
  field: string;
  value: string | null | undefined;
}

/**
 * VK-16 for every free-text column the data map declares: the text is scanned before it is
 * stored, and refused (`sensitive_data_refused`, naming the field and the kinds found, never the
 * value) when it holds a national register number, an IBAN, a card number or, for `all` columns,
 * special-category words — unless the purpose is based on explicit consent for such data
 * (`allowSpecial`). A column the map does not declare as free text is not scanned here.
 */
export function assertFreeTextAllowed(
  map: TableDataMap,
  values: readonly FreeTextValue[],
  options: { allowSpecial?: boolean } = {},
): void {
  if (options.allowSpecial) return;
  for (const { column, field, value } of values) {
    const scan = map.freeText?.[column];
    if (!scan || value === null || value === undefined || value === '') continue;
    refuseSensitiveText(value, field, scan);
  }
}

/** Refuses one text by the rules of a scan level; see assertFreeTextAllowed. */
export function refuseSensitiveText(text: string, field: string, scan: FreeTextScan): void {
  const findings = scanForSensitiveData(text).filter(
    (finding) => scan === 'all' || finding.kind !== 'special_category',
  );
  const kinds = listSensitiveKinds(findings);
  if (kinds.length === 0) return;
  throw new AppError('sensitive_data_refused', `${field} holds forbidden data`, {
    publicMessage: `${field}: refused, it appears to contain ${kinds.map((kind) => kind.replaceAll('_', ' ')).join(', ')}; such data may not be stored here`,
    details: {
      issues: [{ path: `body/${field}`, message: 'holds data that may not be stored here' }],
      kinds,
    },
  });
}

/** The map of one table from a module's list (a programming error when it is missing). */
export function tableMap(maps: readonly TableDataMap[], table: string): TableDataMap {
  const map = maps.find((candidate) => candidate.table === table);
  if (!map) throw new Error(`no data map for table ${table}`);
  return map;
}

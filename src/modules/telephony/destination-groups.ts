/**
 * Named destination groups (issue 13): the tariff names them per prefix (`national_fixed`,
 * `national_mobile`, `international_zone_1` …); invoices summarise calls per group and bundles
 * count minutes per group. A destination no grouped prefix matches falls back to one of four
 * built-in classes, the summary lines invoices had before the tariff named groups.
 */
import type { Tx } from '../../platform/db.js';
import { findGroup, groupedHeads, type DestinationGroup, type RatingTable } from './rating.js';
import { loadRatingTable } from './tariff.service.js';

/** The built-in classes: what a destination is when the tariff names no group for it. */
export const BUILT_IN_GROUPS = {
  be_fixed: { key: 'be_fixed', label: 'Calls to Belgian fixed numbers' },
  be_mobile: { key: 'be_mobile', label: 'Calls to Belgian mobile numbers' },
  international: { key: 'international', label: 'International calls' },
  special: { key: 'special', label: 'Calls to service and special numbers' },
} as const satisfies Record<string, DestinationGroup>;

export type BuiltInGroupKey = keyof typeof BUILT_IN_GROUPS;

/**
 * The built-in classes by the heads of the destinations they take: a destination is in the class
 * of the longest head it starts with ('' takes the rest: dialled digits). The rule as data, so
 * SQL can follow it too (decision 0720).
 */
export const BUILT_IN_HEADS: ReadonlyArray<{ head: string; key: BuiltInGroupKey }> = [
  { head: '+3270', key: 'special' },
  { head: '+3278', key: 'special' },
  { head: '+3280', key: 'special' },
  { head: '+3290', key: 'special' },
  { head: '+324', key: 'be_mobile' },
  { head: '+32', key: 'be_fixed' },
  { head: '+', key: 'international' },
  { head: '', key: 'special' },
];

/** The built-in class of a stored destination (E.164 with '+', or dialled digits). */
export function builtInGroupOf(destination: string): DestinationGroup {
  let best = { head: '', key: 'special' as BuiltInGroupKey };
  for (const candidate of BUILT_IN_HEADS) {
    if (candidate.head.length > best.head.length && destination.startsWith(candidate.head)) best = candidate;
  }
  return BUILT_IN_GROUPS[best.key];
}

export function isBuiltInGroup(key: string): key is BuiltInGroupKey {
  return Object.hasOwn(BUILT_IN_GROUPS, key);
}

/** How to put a destination in its group, given only its first `headLength` characters. */
export interface DestinationGrouping {
  /**
   * Characters of a stored destination that decide its group (the '+' included): a summary can
   * aggregate by `left(destination, headLength)` and group the heads, not every number.
   */
  readonly headLength: number;
  groupOf(destination: string): DestinationGroup;
  /**
   * `groupOf` as data, for SQL (decision 0720): a destination of digits only ('+' first for
   * E.164) is in the group of the longest of these heads it starts with, else in its built-in
   * class (`BUILT_IN_HEADS`). One with any other character that starts with one of these heads
   * needs `groupOf` (the trie's walk stops at that character); else it is in its built-in class.
   */
  readonly tariffHeads: ReadonlyArray<{ head: string; group: DestinationGroup }>;
}

/** The grouping of a rating table: the tariff's group, else the built-in class. */
export function groupingOf(table: RatingTable): DestinationGrouping {
  return {
    // '+' + the longest grouped prefix; at least '+32xx', what the built-in classes look at.
    headLength: Math.max(5, table.longestGroupPrefix + 1),
    groupOf: (destination) => findGroup(table, destination) ?? builtInGroupOf(destination),
    tariffHeads: groupedHeads(table),
  };
}

/** The tenant's destination grouping, from the tariff now stored (price list: not personal). */
export async function loadDestinationGrouping(tx: Tx): Promise<DestinationGrouping> {
  return groupingOf(await loadRatingTable(tx));
}
